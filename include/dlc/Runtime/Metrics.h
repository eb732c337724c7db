// Metrics of a model's outputs against targets.
#ifndef DLC_RUNTIME_METRICS_H
#define DLC_RUNTIME_METRICS_H

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace dlc {

class Buffer;

/// accuracy, precision, recall or f1.
bool isClassificationMetric(const std::string &name);

struct Evaluation {
  std::map<std::string, double> values;
  /// For classifiers: confusion[true][predicted] counts.
  std::vector<std::vector<int64_t>> confusion;
};

/// Metrics of `outputs` (rows x width) against `targets`.
/// Regression (mse, mae, r2) uses the first output column. Classification
/// (accuracy, precision, recall, f1) predicts argmax over the columns, or
/// output > 0.5 for one column; labels are class indices. precision, recall
/// and f1 are macro averages over the classes (scikit-learn's
/// average='macro'; binary problems included), with 0 for a class never
/// predicted.
Evaluation evaluateOutputs(const Buffer &outputs, int64_t rows,
                           const std::vector<double> &targets,
                           const std::vector<std::string> &metrics);

} // namespace dlc

#endif // DLC_RUNTIME_METRICS_H
