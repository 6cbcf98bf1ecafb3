// The one non-cryptographic hash of the project: 64-bit FNV-1a. It derives RNG stream
// seeds from stream names (rng.h) and identifies content (sweep config hashes, shard
// checksums). Its output is fixed by this code, the same on every machine.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace infersim {

constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ULL;

// FNV-1a over `bytes`, continuing from `h` (start with kFnvOffset).
constexpr std::uint64_t fnv1a64(std::string_view bytes, std::uint64_t h = kFnvOffset) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

// fnv1a64 of `text` as 16 lower-case hex digits.
std::string content_hash(std::string_view text);

}  // namespace infersim
