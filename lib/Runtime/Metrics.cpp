// Metrics of a model's outputs against targets.
#include "dlc/Runtime/Metrics.h"
#include "dlc/Runtime/Engine.h"

#include <algorithm>
#include <cmath>

using namespace dlc;

bool dlc::isClassificationMetric(const std::string &name) {
  return name == "accuracy" || name == "precision" || name == "recall" ||
         name == "f1";
}

Evaluation dlc::evaluateOutputs(const Buffer &outputs, int64_t rows,
                                const std::vector<double> &targets,
                                const std::vector<std::string> &metrics) {
  Evaluation result;
  if (rows == 0)
    return result;
  int64_t width = outputs.numElements() / rows;
  bool classification = std::any_of(metrics.begin(), metrics.end(),
                                    isClassificationMetric);
  // Regression.
  double sse = 0, sae = 0, mean = 0;
  for (int64_t i = 0; i < rows; ++i)
    mean += targets[i];
  mean /= rows;
  double sst = 0;
  for (int64_t i = 0; i < rows; ++i) {
    double d = outputs.get(i * width) - targets[i];
    sse += d * d;
    sae += std::abs(d);
    sst += (targets[i] - mean) * (targets[i] - mean);
  }
  // Classification.
  int64_t classes = width == 1 ? 2 : width;
  if (classification) {
    for (int64_t i = 0; i < rows; ++i)
      classes = std::max<int64_t>(classes, int64_t(targets[i]) + 1);
    result.confusion.assign(classes, std::vector<int64_t>(classes, 0));
    for (int64_t i = 0; i < rows; ++i) {
      int64_t predicted;
      if (width == 1) {
        predicted = outputs.get(i) > 0.5 ? 1 : 0;
      } else {
        predicted = 0;
        for (int64_t k = 1; k < width; ++k)
          if (outputs.get(i * width + k) > outputs.get(i * width + predicted))
            predicted = k;
      }
      auto label = static_cast<int64_t>(targets[i]);
      if (label >= 0 && label < classes && label == targets[i])
        ++result.confusion[label][predicted];
    }
  }
  double correct = 0, precision = 0, recall = 0, f1 = 0;
  for (int64_t k = 0; k < int64_t(result.confusion.size()); ++k) {
    int64_t tp = result.confusion[k][k], predictedK = 0, actualK = 0;
    for (int64_t j = 0; j < classes; ++j) {
      predictedK += result.confusion[j][k];
      actualK += result.confusion[k][j];
    }
    correct += tp;
    double p = predictedK ? double(tp) / predictedK : 0.0;
    double r = actualK ? double(tp) / actualK : 0.0;
    precision += p;
    recall += r;
    f1 += p + r > 0 ? 2 * p * r / (p + r) : 0.0;
  }
  for (const std::string &m : metrics) {
    if (m == "mse")
      result.values[m] = sse / rows;
    else if (m == "mae")
      result.values[m] = sae / rows;
    else if (m == "r2")
      result.values[m] = sst > 0 ? 1 - sse / sst : 0.0;
    else if (m == "accuracy")
      result.values[m] = correct / rows;
    else if (m == "precision")
      result.values[m] = precision / classes;
    else if (m == "recall")
      result.values[m] = recall / classes;
    else if (m == "f1")
      result.values[m] = f1 / classes;
  }
  return result;
}
