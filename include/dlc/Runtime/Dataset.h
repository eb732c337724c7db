// Datasets: synthetic generators, CSV files, splits and standardization.
#ifndef DLC_RUNTIME_DATASET_H
#define DLC_RUNTIME_DATASET_H

#include <cstdint>
#include <string>
#include <vector>

namespace dlc {

/// A table of features (row-major, rows x cols) and one target per row.
struct Dataset {
  int64_t rows = 0, cols = 0;
  std::vector<double> x;
  std::vector<double> y;
  std::vector<std::string> featureNames;
  std::string targetName;

  Dataset subset(const std::vector<int64_t> &indices) const;
};

/// scikit-learn's make_regression semantics: X ~ N(0, 1); the first
/// `informative` features (all when < 0) get coefficients 100 * U[0, 1);
/// y = X coef + bias + noise * N(0, 1); rows in random order.
Dataset makeRegression(int64_t samples, int64_t features, int64_t informative,
                       double noise, double bias, uint64_t seed);

/// scikit-learn's make_blobs: `centers` isotropic Gaussian clusters with
/// standard deviation `std`, centres uniform in [-10, 10]^features, the
/// samples split evenly; the target is the cluster index.
Dataset makeBlobs(int64_t samples, int64_t features, int64_t centers,
                  double std, uint64_t seed);

/// scikit-learn's make_moons: two interleaving half circles (target 0 the
/// upper, 1 the lower) with Gaussian noise of standard deviation `noise`.
Dataset makeMoons(int64_t samples, double noise, uint64_t seed);

/// Points from `modes` Gaussians (standard deviation `std`) evenly spaced
/// on a circle of `radius` (the 8-Gaussians GAN benchmark); the target is the
/// mode's index.
Dataset makeRing(int64_t samples, int64_t modes, double radius, double std,
                 uint64_t seed);

/// scikit-learn's make_classification with n_redundant = n_repeated = 0,
/// two clusters per class, class_sep = 1 and flip_y = 0: each cluster is a
/// Gaussian around a vertex of a hypercube of side 2 in the `informative`
/// dimensions, with a random linear covariance; the other features are
/// N(0, 1) noise. Classes are balanced.
Dataset makeClassification(int64_t samples, int64_t features,
                           int64_t informative, int64_t classes,
                           uint64_t seed);

/// Reads a CSV file with a header row. The target is the column `target`
/// (the last column when empty); every other column is a feature. On error,
/// returns false and sets `error` to "file:line:col: message".
bool readCSV(const std::string &path, const std::string &target,
             Dataset &out, std::string &error);

/// Reads features from a .npy array [rows, ...] (each row flattened) and,
/// when `targetsPath` is not empty, one target per row from a .npy array
/// [rows] or [rows, 1].
bool readNpyDataset(const std::string &featuresPath,
                    const std::string &targetsPath, Dataset &out,
                    std::string &error);

/// Reads a CSV file whose columns are all features (for prediction); `y`
/// stays empty.
bool readFeaturesCSV(const std::string &path, Dataset &out,
                     std::string &error);

/// Splits rows into (train, test) at random: `testFraction` of the rows,
/// rounded up as scikit-learn's train_test_split does, go to test.
void holdoutSplit(const Dataset &all, double testFraction, uint64_t seed,
                  Dataset &train, Dataset &test);

/// Standardizes features to zero mean and unit variance with the statistics
/// of `train` (constant columns are left centred).
void standardize(Dataset &train, Dataset *test);

} // namespace dlc

#endif // DLC_RUNTIME_DATASET_H
