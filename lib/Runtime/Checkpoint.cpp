// Checkpoints in the safetensors format, and atomic file writes.
#include "dlc/Runtime/Checkpoint.h"
#include "dlc/Runtime/Engine.h"

#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

using namespace dlc;

bool dlc::writeFileAtomically(const std::string &path, llvm::StringRef contents,
                              std::string &error) {
  llvm::SmallString<256> model(path);
  model += ".tmp-%%%%%%";
  int fd;
  llvm::SmallString<256> tmp;
  if (std::error_code ec = llvm::sys::fs::createUniqueFile(model, fd, tmp)) {
    error = path + ": cannot write: " + ec.message();
    return false;
  }
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << contents;
    os.flush();
    if (os.has_error()) {
      error = path + ": cannot write: " + os.error().message();
      os.clear_error();
      llvm::sys::fs::remove(tmp);
      return false;
    }
  }
  if (std::error_code ec = llvm::sys::fs::rename(tmp, path)) {
    llvm::sys::fs::remove(tmp);
    error = path + ": cannot write: " + ec.message();
    return false;
  }
  return true;
}

bool dlc::writeSafetensors(
    const std::string &path,
    const std::vector<std::pair<std::string, const Buffer *>> &tensors,
    const std::map<std::string, std::string> &metadata, std::string &error) {
  llvm::json::Object header;
  llvm::json::Object meta;
  for (auto &[k, v] : metadata)
    meta[k] = v;
  header["__metadata__"] = std::move(meta);
  std::string data;
  for (auto &[name, buffer] : tensors) {
    int64_t n = buffer->numElements();
    size_t begin = data.size();
    for (int64_t i = 0; i < n; ++i) {
      char bytes[8];
      if (buffer->isF64()) {
        llvm::support::endian::write64le(bytes,
                                         llvm::bit_cast<uint64_t>(buffer->get(i)));
        data.append(bytes, 8);
      } else {
        float f = static_cast<float>(buffer->get(i));
        llvm::support::endian::write32le(bytes, llvm::bit_cast<uint32_t>(f));
        data.append(bytes, 4);
      }
    }
    llvm::json::Array shape;
    for (int64_t d : buffer->shape())
      shape.push_back(d);
    header[name] = llvm::json::Object{
        {"dtype", buffer->isF64() ? "F64" : "F32"},
        {"shape", std::move(shape)},
        {"data_offsets", llvm::json::Array{int64_t(begin), int64_t(data.size())}}};
  }
  std::string json;
  llvm::raw_string_ostream(json) << llvm::json::Value(std::move(header));
  while (json.size() % 8)
    json += ' ';
  std::string file(8, '\0');
  llvm::support::endian::write64le(file.data(), json.size());
  file += json;
  file += data;
  return writeFileAtomically(path, file, error);
}

bool dlc::readSafetensors(const std::string &path,
                          std::map<std::string, StoredTensor> &tensors,
                          std::string &error) {
  auto fail = [&](const llvm::Twine &message) {
    error = (path + ": error: " + message).str();
    return false;
  };
  auto file = llvm::MemoryBuffer::getFile(path, /*IsText=*/false);
  if (!file)
    return fail("cannot read file: " + file.getError().message());
  llvm::StringRef bytes = (*file)->getBuffer();
  if (bytes.size() < 8)
    return fail("not a safetensors file (shorter than its 8-byte header size)");
  uint64_t headerSize = llvm::support::endian::read64le(bytes.data());
  if (headerSize > bytes.size() - 8)
    return fail("not a safetensors file (header size " + llvm::Twine(headerSize) +
                " exceeds the file)");
  llvm::StringRef headerText = bytes.substr(8, headerSize);
  llvm::StringRef data = bytes.substr(8 + headerSize);
  auto parsed = llvm::json::parse(headerText);
  if (!parsed)
    return fail("invalid JSON header: " + llvm::toString(parsed.takeError()));
  const llvm::json::Object *header = parsed->getAsObject();
  if (!header)
    return fail("the JSON header is not an object");
  tensors.clear();
  for (const auto &[key, value] : *header) {
    if (key == "__metadata__")
      continue;
    std::string name = key.str();
    const llvm::json::Object *entry = value.getAsObject();
    if (!entry)
      return fail("tensor '" + name + "' is not an object");
    auto dtype = entry->getString("dtype");
    const llvm::json::Array *shape = entry->getArray("shape");
    const llvm::json::Array *offsets = entry->getArray("data_offsets");
    if (!dtype || !shape || !offsets || offsets->size() != 2)
      return fail("tensor '" + name +
                  "' needs dtype, shape and two data_offsets");
    StoredTensor t;
    t.dtype = dtype->str();
    size_t width;
    if (t.dtype == "F32")
      width = 4;
    else if (t.dtype == "F64")
      width = 8;
    else
      return fail("tensor '" + name + "' has dtype " + t.dtype +
                  " (dlc reads F32 and F64)");
    int64_t count = 1;
    for (const llvm::json::Value &d : *shape) {
      auto v = d.getAsInteger();
      if (!v || *v < 0)
        return fail("tensor '" + name + "' has an invalid shape");
      t.shape.push_back(*v);
      count *= *v;
    }
    auto begin = (*offsets)[0].getAsInteger();
    auto end = (*offsets)[1].getAsInteger();
    if (!begin || !end || *begin < 0 || *end < *begin ||
        uint64_t(*end) > data.size() || uint64_t(*end - *begin) != count * width)
      return fail("tensor '" + name +
                  "' has data offsets that do not match its shape and dtype");
    const char *p = data.data() + *begin;
    t.values.resize(count);
    for (int64_t i = 0; i < count; ++i) {
      if (width == 4)
        t.values[i] = llvm::bit_cast<float>(
            llvm::support::endian::read32le(p + 4 * i));
      else
        t.values[i] = llvm::bit_cast<double>(
            llvm::support::endian::read64le(p + 8 * i));
    }
    tensors[name] = std::move(t);
  }
  return true;
}
