// NumPy's .npy files (format versions 1-3, little-endian, C order).
#ifndef DLC_RUNTIME_NPY_H
#define DLC_RUNTIME_NPY_H

#include <cstdint>
#include <string>
#include <vector>

namespace dlc {

/// An array read from a .npy file, values widened to double.
struct NpyArray {
  std::vector<int64_t> shape;
  std::vector<double> values;
};

/// Reads float32/float64/int32/int64 (little-endian, C order) arrays. On
/// error, returns false with "file: error: message".
bool readNpy(const std::string &path, NpyArray &out, std::string &error);

/// Writes a float32 (or float64) array, atomically.
bool writeNpy(const std::string &path, const std::vector<int64_t> &shape,
              const std::vector<double> &values, bool f64, std::string &error);

} // namespace dlc

#endif // DLC_RUNTIME_NPY_H
