// core/posix/internal/frame_mac.h — HMAC-SHA256 under the cluster key, the
// authentication tag of TCP frames (core/posix/tcp_frame_format.md).
//
// A thin wrapper over OpenSSL's libcrypto (EVP_MAC "HMAC"): the keyed
// context is set up once and re-initialised per frame. Not thread-safe: one
// network's frames are tagged and checked on its loop thread only.
#pragma once

#include <cstddef>
#include <string_view>

struct evp_mac_st;
struct evp_mac_ctx_st;

namespace faultline::posix::internal {

inline constexpr size_t kFrameTagBytes = 32;  // SHA-256

class FrameMac {
 public:
  // `key` must not be empty (the network refuses short keys before this).
  explicit FrameMac(std::string_view key);
  ~FrameMac();
  FrameMac(const FrameMac&) = delete;
  FrameMac& operator=(const FrameMac&) = delete;

  // Writes the kFrameTagBytes tag of `data` to `tag`.
  void Sign(std::string_view data, char* tag) const;
  // Whether `tag` (kFrameTagBytes) is the tag of `data`; constant time in
  // the tag's contents.
  bool Verify(std::string_view data, const char* tag) const;

 private:
  evp_mac_st* mac_ = nullptr;
  evp_mac_ctx_st* context_ = nullptr;
};

}  // namespace faultline::posix::internal
