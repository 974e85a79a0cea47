// scenarios/kit/explore_order.cc — see explore_order.h.
#include "scenarios/kit/explore_order.h"

#include "core/base/check.h"

namespace faultline::scenarios::kit {
namespace {

uint32_t ReverseBits(uint32_t value, uint32_t bits) {
  uint32_t reversed = 0;
  for (uint32_t i = 0; i < bits; ++i) {
    reversed = (reversed << 1) | ((value >> i) & 1u);
  }
  return reversed;
}

}  // namespace

std::vector<uint32_t> VariedCrashStateOrder(uint32_t count, bool with_garbage) {
  FAULTLINE_CHECK(count < (uint32_t{1} << 30));
  std::vector<uint32_t> order;
  order.reserve(count + (with_garbage ? 1 : 0));
  if (count > 0) order.push_back(0);
  if (count > 1) order.push_back(count - 1);
  if (with_garbage) order.push_back(count);
  if (count > 2) {
    const uint32_t middle = count - 2;  // indexes 1 .. count - 2
    uint32_t bits = 0;
    while ((uint32_t{1} << bits) < middle) ++bits;
    for (uint32_t rank = 0; rank < (uint32_t{1} << bits); ++rank) {
      const uint32_t index = ReverseBits(rank, bits);
      if (index < middle) order.push_back(1 + index);
    }
  }
  FAULTLINE_CHECK(order.size() == count + (with_garbage ? 1u : 0u));
  return order;
}

}  // namespace faultline::scenarios::kit
