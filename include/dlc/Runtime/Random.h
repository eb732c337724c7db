// A small, portable, seeded random generator: the same seed gives the same
// numbers on every platform and standard library (unlike std::*_distribution).
#ifndef DLC_RUNTIME_RANDOM_H
#define DLC_RUNTIME_RANDOM_H

#include <cmath>
#include <cstdint>
#include <vector>

namespace dlc {

class Random {
public:
  explicit Random(uint64_t seed) : state(seed ^ 0x9E3779B97F4A7C15ull) {}

  /// splitmix64.
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, 1) with 53 random bits.
  double uniform() { return (next() >> 11) * (1.0 / 9007199254740992.0); }
  /// Standard normal (Box-Muller; one value per call, no cached state).
  double normal() {
    double u1 = uniform(), u2 = uniform();
    if (u1 < 1e-300)
      u1 = 1e-300;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  /// Uniform integer in [0, n).
  uint64_t below(uint64_t n) { return next() % n; }
  /// Fisher-Yates shuffle.
  template <typename T> void shuffle(std::vector<T> &v) {
    for (size_t i = v.size(); i > 1; --i)
      std::swap(v[i - 1], v[below(i)]);
  }

private:
  uint64_t state;
};

} // namespace dlc

#endif // DLC_RUNTIME_RANDOM_H
