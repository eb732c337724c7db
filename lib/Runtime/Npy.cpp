// NumPy's .npy files: a magic string, a version, a header that is a Python
// dict literal ({'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }),
// then the raw data.
#include "dlc/Runtime/Npy.h"
#include "dlc/Runtime/Checkpoint.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstring>

using namespace dlc;

static const char kMagic[] = "\x93NUMPY";

/// The value of `key` in the header dict, up to the next top-level comma.
static llvm::StringRef headerValue(llvm::StringRef header,
                                   llvm::StringRef key) {
  size_t at = header.find(("'" + key + "'").str());
  if (at == llvm::StringRef::npos)
    return {};
  llvm::StringRef rest = header.drop_front(at + key.size() + 2).ltrim();
  if (!rest.consume_front(":"))
    return {};
  rest = rest.ltrim();
  if (rest.starts_with("(")) // a tuple
    return rest.take_until([](char c) { return c == ')'; }).drop_front();
  return rest.take_until([](char c) { return c == ',' || c == '}'; }).trim();
}

bool dlc::readNpy(const std::string &path, NpyArray &out, std::string &error) {
  auto fail = [&](const llvm::Twine &message) {
    error = (path + ": error: " + message).str();
    return false;
  };
  auto file = llvm::MemoryBuffer::getFile(path, /*IsText=*/false);
  if (!file)
    return fail("cannot read file: " + file.getError().message());
  llvm::StringRef bytes = (*file)->getBuffer();
  if (bytes.size() < 10 || !bytes.starts_with(llvm::StringRef(kMagic, 6)))
    return fail("not a .npy file (no \\x93NUMPY magic)");
  unsigned major = static_cast<unsigned char>(bytes[6]);
  size_t headerLen, start;
  if (major == 1) {
    headerLen = llvm::support::endian::read16le(bytes.data() + 8);
    start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12)
      return fail("truncated header");
    headerLen = llvm::support::endian::read32le(bytes.data() + 8);
    start = 12;
  } else {
    return fail("unsupported .npy version " + llvm::Twine(major));
  }
  if (start + headerLen > bytes.size())
    return fail("truncated header");
  llvm::StringRef header = bytes.substr(start, headerLen);
  llvm::StringRef descr = headerValue(header, "descr").trim("'\" ");
  llvm::StringRef fortran = headerValue(header, "fortran_order");
  llvm::StringRef shapeText = headerValue(header, "shape");
  if (descr.empty() || fortran.empty())
    return fail("the header lacks 'descr', 'fortran_order' or 'shape'");
  if (fortran != "False")
    return fail("Fortran-order arrays are not supported (use "
                "numpy.ascontiguousarray)");
  size_t width;
  if (descr == "<f4" || descr == "<i4")
    width = 4;
  else if (descr == "<f8" || descr == "<i8")
    width = 8;
  else
    return fail("dtype '" + descr +
                "' is not supported (little-endian float32/64, int32/64)");
  out.shape.clear();
  int64_t count = 1;
  llvm::SmallVector<llvm::StringRef> dims;
  shapeText.split(dims, ',');
  for (llvm::StringRef d : dims) {
    d = d.trim();
    if (d.empty())
      continue;
    int64_t n;
    if (d.getAsInteger(10, n) || n < 0)
      return fail("invalid shape (" + shapeText + ")");
    out.shape.push_back(n);
    count *= n;
  }
  llvm::StringRef data = bytes.drop_front(start + headerLen);
  if (data.size() != count * width)
    return fail("has " + llvm::Twine(data.size()) + " data bytes, the shape "
                "needs " + llvm::Twine(count * width));
  out.values.resize(count);
  const char *p = data.data();
  for (int64_t i = 0; i < count; ++i) {
    if (descr == "<f4")
      out.values[i] =
          llvm::bit_cast<float>(llvm::support::endian::read32le(p + 4 * i));
    else if (descr == "<f8")
      out.values[i] =
          llvm::bit_cast<double>(llvm::support::endian::read64le(p + 8 * i));
    else if (descr == "<i4")
      out.values[i] = static_cast<int32_t>(
          llvm::support::endian::read32le(p + 4 * i));
    else
      out.values[i] = static_cast<double>(static_cast<int64_t>(
          llvm::support::endian::read64le(p + 8 * i)));
  }
  return true;
}

bool dlc::writeNpy(const std::string &path, const std::vector<int64_t> &shape,
                   const std::vector<double> &values, bool f64,
                   std::string &error) {
  std::string dims;
  for (int64_t d : shape)
    dims += std::to_string(d) + ", ";
  if (shape.size() > 1)
    dims.resize(dims.size() - 1); // (2, 3) but (2,)
  else if (!shape.empty())
    dims.pop_back();
  std::string header = "{'descr': '" + std::string(f64 ? "<f8" : "<f4") +
                       "', 'fortran_order': False, 'shape': (" + dims +
                       "), }";
  // Pad so that the data starts at a multiple of 64 bytes.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string file(kMagic, 6);
  file += '\x01';
  file += '\x00';
  char len[2];
  llvm::support::endian::write16le(len, header.size());
  file.append(len, 2);
  file += header;
  for (double v : values) {
    char buf[8];
    if (f64) {
      llvm::support::endian::write64le(buf, llvm::bit_cast<uint64_t>(v));
      file.append(buf, 8);
    } else {
      llvm::support::endian::write32le(
          buf, llvm::bit_cast<uint32_t>(static_cast<float>(v)));
      file.append(buf, 4);
    }
  }
  return writeFileAtomically(path, file, error);
}
