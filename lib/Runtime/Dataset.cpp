// Datasets: synthetic generators, CSV files, splits and standardization.
#include "dlc/Runtime/Dataset.h"
#include "dlc/Runtime/Npy.h"
#include "dlc/Runtime/Random.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cmath>
#include <numeric>

using namespace dlc;

/// Shuffles the rows of `d` in place.
static void shuffleRows(Dataset &d, Random &rng) {
  std::vector<int64_t> order(d.rows);
  std::iota(order.begin(), order.end(), 0);
  rng.shuffle(order);
  d = d.subset(order);
}

static void nameFeatures(Dataset &d) {
  for (int64_t j = 0; j < d.cols; ++j)
    d.featureNames.push_back("x" + std::to_string(j));
  d.targetName = "y";
}


Dataset Dataset::subset(const std::vector<int64_t> &indices) const {
  Dataset out;
  out.cols = cols;
  out.rows = indices.size();
  out.featureNames = featureNames;
  out.targetName = targetName;
  out.x.reserve(out.rows * cols);
  for (int64_t i : indices) {
    out.x.insert(out.x.end(), x.begin() + i * cols, x.begin() + (i + 1) * cols);
    out.y.push_back(y[i]);
  }
  return out;
}

Dataset dlc::makeRegression(int64_t samples, int64_t features,
                            int64_t informative, double noise, double bias,
                            uint64_t seed) {
  Random rng(seed);
  if (informative < 0 || informative > features)
    informative = features;
  Dataset d;
  d.rows = samples;
  d.cols = features;
  d.x.resize(samples * features);
  for (double &v : d.x)
    v = rng.normal();
  std::vector<double> coef(features, 0.0);
  for (int64_t j = 0; j < informative; ++j)
    coef[j] = 100.0 * rng.uniform();
  d.y.resize(samples);
  for (int64_t i = 0; i < samples; ++i) {
    double s = bias;
    for (int64_t j = 0; j < features; ++j)
      s += d.x[i * features + j] * coef[j];
    d.y[i] = s + noise * rng.normal();
  }
  nameFeatures(d);
  return d;
}

static bool readTable(const std::string &path, const std::string &target,
                      bool hasTarget, Dataset &out, std::string &error);

Dataset dlc::makeBlobs(int64_t samples, int64_t features, int64_t centers,
                       double std, uint64_t seed) {
  Random rng(seed);
  std::vector<double> centres(centers * features);
  for (double &c : centres)
    c = -10.0 + 20.0 * rng.uniform();
  Dataset d;
  d.rows = samples;
  d.cols = features;
  for (int64_t i = 0; i < samples; ++i) {
    int64_t k = i * centers / samples; // even split, as scikit-learn
    for (int64_t j = 0; j < features; ++j)
      d.x.push_back(centres[k * features + j] + std * rng.normal());
    d.y.push_back(k);
  }
  nameFeatures(d);
  shuffleRows(d, rng);
  return d;
}

Dataset dlc::makeMoons(int64_t samples, double noise, uint64_t seed) {
  Random rng(seed);
  int64_t outer = samples / 2, inner = samples - outer;
  Dataset d;
  d.rows = samples;
  d.cols = 2;
  const double pi = 3.14159265358979323846;
  for (int64_t i = 0; i < outer; ++i) {
    double t = outer > 1 ? pi * i / (outer - 1) : 0.0;
    d.x.push_back(std::cos(t));
    d.x.push_back(std::sin(t));
    d.y.push_back(0);
  }
  for (int64_t i = 0; i < inner; ++i) {
    double t = inner > 1 ? pi * i / (inner - 1) : 0.0;
    d.x.push_back(1 - std::cos(t));
    d.x.push_back(1 - std::sin(t) - 0.5);
    d.y.push_back(1);
  }
  for (double &v : d.x)
    v += noise * rng.normal();
  nameFeatures(d);
  shuffleRows(d, rng);
  return d;
}

Dataset dlc::makeRing(int64_t samples, int64_t modes, double radius,
                      double std, uint64_t seed) {
  Random rng(seed);
  Dataset d;
  d.rows = samples;
  d.cols = 2;
  const double pi = 3.14159265358979323846;
  for (int64_t i = 0; i < samples; ++i) {
    int64_t k = rng.below(modes);
    double angle = 2 * pi * k / modes;
    d.x.push_back(radius * std::cos(angle) + std * rng.normal());
    d.x.push_back(radius * std::sin(angle) + std * rng.normal());
    d.y.push_back(k);
  }
  nameFeatures(d);
  return d;
}

Dataset dlc::makeClassification(int64_t samples, int64_t features,
                                int64_t informative, int64_t classes,
                                uint64_t seed) {
  Random rng(seed);
  const int64_t clustersPerClass = 2;
  int64_t clusters = classes * clustersPerClass;
  // Cluster centroids: distinct vertices of the hypercube [-1, 1]^informative
  // (cycled when there are more clusters than vertices).
  std::vector<double> centroids(clusters * informative);
  std::vector<int64_t> vertices(int64_t(1) << std::min<int64_t>(informative, 30));
  std::iota(vertices.begin(), vertices.end(), 0);
  rng.shuffle(vertices);
  for (int64_t c = 0; c < clusters; ++c)
    for (int64_t j = 0; j < informative; ++j)
      centroids[c * informative + j] =
          (vertices[c % vertices.size()] >> j) & 1 ? 1.0 : -1.0;
  // A random linear map per cluster gives it a covariance.
  std::vector<double> maps(clusters * informative * informative);
  for (double &a : maps)
    a = 2 * rng.uniform() - 1;
  Dataset d;
  d.rows = samples;
  d.cols = features;
  std::vector<double> z(informative);
  for (int64_t i = 0; i < samples; ++i) {
    int64_t c = i * clusters / samples;
    for (double &v : z)
      v = rng.normal();
    for (int64_t j = 0; j < informative; ++j) {
      double v = centroids[c * informative + j];
      for (int64_t k = 0; k < informative; ++k)
        v += z[k] * maps[(c * informative + k) * informative + j];
      d.x.push_back(v);
    }
    for (int64_t j = informative; j < features; ++j)
      d.x.push_back(rng.normal());
    d.y.push_back(c % classes);
  }
  nameFeatures(d);
  shuffleRows(d, rng);
  return d;
}

bool dlc::readCSV(const std::string &path, const std::string &target,
                  Dataset &out, std::string &error) {
  return readTable(path, target, /*hasTarget=*/true, out, error);
}

bool dlc::readFeaturesCSV(const std::string &path, Dataset &out,
                          std::string &error) {
  return readTable(path, "", /*hasTarget=*/false, out, error);
}

static bool readTable(const std::string &path, const std::string &target,
                      bool hasTarget, Dataset &out, std::string &error) {
  auto file = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!file) {
    error = path + ": error: cannot read file: " + file.getError().message();
    return false;
  }
  llvm::StringRef text = (*file)->getBuffer();
  auto fail = [&](size_t line, size_t col, const llvm::Twine &msg) {
    error = (path + ":" + llvm::Twine(line) + ":" + llvm::Twine(col) +
             ": error: " + msg)
                .str();
    return false;
  };
  llvm::SmallVector<llvm::StringRef> lines;
  text.split(lines, '\n');
  size_t lineNo = 0;
  std::vector<std::string> header;
  int64_t targetCol = -1;
  out = Dataset();
  for (llvm::StringRef raw : lines) {
    ++lineNo;
    llvm::StringRef line = raw.rtrim("\r");
    if (line.trim().empty())
      continue;
    llvm::SmallVector<llvm::StringRef> fields;
    line.split(fields, ',');
    if (header.empty()) {
      for (llvm::StringRef f : fields)
        header.push_back(f.trim().str());
      if (header.size() < (hasTarget ? 2u : 1u))
        return fail(lineNo, 1, "expected a header row with at least two "
                               "columns (features, then the target)");
      if (!hasTarget) {
        targetCol = -1;
      } else if (target.empty()) {
        targetCol = header.size() - 1;
      } else {
        auto it = std::find(header.begin(), header.end(), target);
        if (it == header.end())
          return fail(lineNo, 1, "no column named '" + target +
                                     "' in the header");
        targetCol = it - header.begin();
      }
      for (size_t j = 0; j < header.size(); ++j)
        if ((int64_t)j != targetCol)
          out.featureNames.push_back(header[j]);
      out.targetName = hasTarget ? header[targetCol] : "";
      out.cols = header.size() - (hasTarget ? 1 : 0);
      continue;
    }
    if (fields.size() != header.size())
      return fail(lineNo, 1,
                  "expected " + llvm::Twine(header.size()) +
                      " fields as in the header, found " +
                      llvm::Twine(fields.size()));
    size_t col = 1;
    for (size_t j = 0; j < fields.size(); ++j) {
      llvm::StringRef f = fields[j].trim();
      double v;
      if (f.empty() || f.getAsDouble(v) || !std::isfinite(v))
        return fail(lineNo, col,
                    "expected a finite number in column '" + header[j] +
                        "', found '" + fields[j] + "'");
      if ((int64_t)j == targetCol)
        out.y.push_back(v);
      else
        out.x.push_back(v);
      col += fields[j].size() + 1;
    }
    ++out.rows;
  }
  if (header.empty())
    return fail(1, 1, "the file is empty");
  if (out.rows == 0)
    return fail(lineNo, 1, "the file has a header but no data rows");
  return true;
}

void dlc::holdoutSplit(const Dataset &all, double testFraction, uint64_t seed,
                       Dataset &train, Dataset &test) {
  std::vector<int64_t> order(all.rows);
  std::iota(order.begin(), order.end(), 0);
  Random rng(seed);
  rng.shuffle(order);
  int64_t numTest = static_cast<int64_t>(std::ceil(testFraction * all.rows));
  numTest = std::min<int64_t>(std::max<int64_t>(numTest, 1), all.rows - 1);
  std::vector<int64_t> testIdx(order.begin(), order.begin() + numTest);
  std::vector<int64_t> trainIdx(order.begin() + numTest, order.end());
  test = all.subset(testIdx);
  train = all.subset(trainIdx);
}

void dlc::standardize(Dataset &train, Dataset *test) {
  for (int64_t j = 0; j < train.cols; ++j) {
    double mean = 0, var = 0;
    for (int64_t i = 0; i < train.rows; ++i)
      mean += train.x[i * train.cols + j];
    mean /= train.rows;
    for (int64_t i = 0; i < train.rows; ++i) {
      double d = train.x[i * train.cols + j] - mean;
      var += d * d;
    }
    double scale = std::sqrt(var / train.rows);
    if (scale == 0)
      scale = 1;
    auto apply = [&](Dataset &d) {
      for (int64_t i = 0; i < d.rows; ++i)
        d.x[i * d.cols + j] = (d.x[i * d.cols + j] - mean) / scale;
    };
    apply(train);
    if (test)
      apply(*test);
  }
}

bool dlc::readNpyDataset(const std::string &featuresPath,
                         const std::string &targetsPath, Dataset &out,
                         std::string &error) {
  NpyArray x;
  if (!readNpy(featuresPath, x, error))
    return false;
  if (x.shape.empty() || x.shape[0] == 0) {
    error = featuresPath + ": error: expected an array of rows, got shape ()";
    return false;
  }
  out = Dataset();
  out.rows = x.shape[0];
  out.cols = x.shape.size() == 1 ? 1 : int64_t(x.values.size()) / out.rows;
  out.x = std::move(x.values);
  for (int64_t j = 0; j < out.cols; ++j)
    out.featureNames.push_back("x" + std::to_string(j));
  if (targetsPath.empty())
    return true;
  NpyArray y;
  if (!readNpy(targetsPath, y, error))
    return false;
  if (int64_t(y.values.size()) != out.rows ||
      (y.shape.size() == 2 && y.shape[1] != 1) || y.shape.size() > 2) {
    error = targetsPath + ": error: expected one target per row (" +
            std::to_string(out.rows) + ")";
    return false;
  }
  out.y = std::move(y.values);
  out.targetName = "y";
  return true;
}
