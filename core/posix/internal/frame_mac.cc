// core/posix/internal/frame_mac.cc — see frame_mac.h.
#include "core/posix/internal/frame_mac.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "core/base/check.h"

namespace faultline::posix::internal {

FrameMac::FrameMac(std::string_view key) {
  FAULTLINE_CHECK(!key.empty());
  mac_ = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  FAULTLINE_CHECK_MSG(mac_ != nullptr, "libcrypto has no HMAC");
  context_ = EVP_MAC_CTX_new(mac_);
  FAULTLINE_CHECK(context_ != nullptr);
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_END};
  FAULTLINE_CHECK(EVP_MAC_init(context_, reinterpret_cast<const unsigned char*>(key.data()),
                               key.size(), params) == 1);
}

FrameMac::~FrameMac() {
  EVP_MAC_CTX_free(context_);
  EVP_MAC_free(mac_);
}

void FrameMac::Sign(std::string_view data, char* tag) const {
  // A null key re-initialises the context with the key it already holds.
  FAULTLINE_CHECK(EVP_MAC_init(context_, nullptr, 0, nullptr) == 1);
  FAULTLINE_CHECK(
      EVP_MAC_update(context_, reinterpret_cast<const unsigned char*>(data.data()), data.size()) ==
      1);
  size_t written = 0;
  FAULTLINE_CHECK(EVP_MAC_final(context_, reinterpret_cast<unsigned char*>(tag), &written,
                                kFrameTagBytes) == 1);
  FAULTLINE_CHECK(written == kFrameTagBytes);
}

bool FrameMac::Verify(std::string_view data, const char* tag) const {
  char expected[kFrameTagBytes];
  Sign(data, expected);
  return CRYPTO_memcmp(expected, tag, kFrameTagBytes) == 0;
}

}  // namespace faultline::posix::internal
