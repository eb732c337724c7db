// Checkpoints in the safetensors format, and atomic file writes.
#ifndef DLC_RUNTIME_CHECKPOINT_H
#define DLC_RUNTIME_CHECKPOINT_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace dlc {

class Buffer;

/// A tensor read from a checkpoint (values widened to double).
struct StoredTensor {
  std::string dtype; // F32 or F64
  std::vector<int64_t> shape;
  std::vector<double> values;
};

/// Writes `contents` to `path` through a temporary file in the same folder
/// and a rename, so that `path` is never left half-written. On failure,
/// returns false with "path: message" in `error`.
bool writeFileAtomically(const std::string &path, llvm::StringRef contents,
                         std::string &error);

/// Writes named tensors as safetensors: an 8-byte little-endian header size,
/// a JSON header {"name": {"dtype", "shape", "data_offsets"}, "__metadata__"},
/// then the raw little-endian data. Atomic.
bool writeSafetensors(
    const std::string &path,
    const std::vector<std::pair<std::string, const Buffer *>> &tensors,
    const std::map<std::string, std::string> &metadata, std::string &error);

/// Reads a safetensors file (F32 and F64 tensors). Errors name the file.
bool readSafetensors(const std::string &path,
                     std::map<std::string, StoredTensor> &tensors,
                     std::string &error);

} // namespace dlc

#endif // DLC_RUNTIME_CHECKPOINT_H
