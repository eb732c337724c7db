// dlc predict: the trained model's output on new inputs, written as CSV.
#include "Commands.h"

#include "dlc/Runtime/Npy.h"
#include "dlc/Runtime/Trainer.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/raw_ostream.h"

#include <fmt/format.h>

using namespace llvm;
using namespace dlc;

static cl::opt<std::string> loadCkpt(
    "load", cl::desc("The trained parameters (safetensors from dlc train "
                     "--save)"),
    cl::value_desc("file"), cl::Required, cl::sub(predictCmd),
    cl::cat(category));
static cl::opt<std::string>
    inputCSV("input",
             cl::desc("Inputs: a CSV file (a header row, then one row of "
                      "features per sample) or a .npy array [samples, ...]"),
             cl::value_desc("file"), cl::sub(predictCmd), cl::cat(category));
static cl::opt<int64_t> samples(
    "samples",
    cl::desc("Generate this many outputs from noise instead of reading "
             "--input (for generative models: the output uses randn)"),
    cl::value_desc("N"), cl::init(0), cl::sub(predictCmd), cl::cat(category));
static cl::opt<int64_t> noiseSeed("seed",
                                  cl::desc("The seed of the noise (--samples)"),
                                  cl::value_desc("S"), cl::init(0),
                                  cl::sub(predictCmd), cl::cat(category));
static cl::opt<std::string>
    outputCSV("output",
              cl::desc("Write the outputs here: CSV, or a .npy array when "
                       "the name ends in .npy ('-': CSV on stdout)"),
              cl::value_desc("file"), cl::init("-"), cl::sub(predictCmd),
              cl::cat(category));

int dlc::runPredict() {
  CommonOptions options = commonOptions();
  Session s(options);
  if (!s.load())
    return 1;
  const ModelInfo &info = s.info();
  if (!info.output) {
    mlir::emitError(toLocation(&s.context(), s.program(), s.model().loc))
        << "model '" << info.name << "' has no 'output' statement";
    return 1;
  }
  TrainConfig config;
  if (mlir::failed(
          readTrainConfig(s.program(), s.model(), &s.context(), config)))
    return 1;
  std::string error;
  Dataset data;
  int64_t features = info.inputs[0].perSample();
  if (samples.getNumOccurrences() == inputCSV.getNumOccurrences())
    return Session::error("give either --input or --samples"), 1;
  if (samples.getNumOccurrences()) {
    if (samples < 1 || noiseSeed < 0)
      return Session::error("--samples must be >= 1 and --seed >= 0"), 1;
    if (!info.predictUsesCounter)
      return Session::error("--samples needs an output made from noise "
                            "(randn); '" + info.name + "' has none"),
             1;
    // The input only gives the batch size.
    data.rows = samples;
    data.cols = features;
    data.x.assign(data.rows * features, 0.0);
  } else if (StringRef(inputCSV).ends_with(".npy")) {
    if (!readNpyDataset(inputCSV, "", data, error))
      return errs() << error << "\n", 1;
  } else if (!readFeaturesCSV(inputCSV, data, error)) {
    return errs() << error << "\n", 1;
  }
  if (data.cols != features) {
    Session::error(fmt::format("{}: has {} columns, but input '{}' of model "
                               "'{}' takes {} features",
                               std::string(inputCSV), data.cols,
                               info.inputs[0].name, info.name, features));
    return 1;
  }
  if (!s.lowerToLinalg() || !s.lowerToLLVM())
    return 1;
  std::unique_ptr<Engine> engine = Engine::create(s.module(), error, s.engineOptions());
  if (!engine)
    return Session::error("JIT compilation failed: " + error), 1;
  Trainer model(info, config, *engine);
  if (!model.init(error, /*training=*/false))
    return Session::error(error), 1;
  if (!model.load(loadCkpt, error))
    return errs() << error << "\n", 1;
  model.setNoiseSeed(noiseSeed);
  Buffer out = model.predictAll(data);

  int64_t width = out.numElements() / std::max<int64_t>(data.rows, 1);
  if (StringRef(outputCSV).ends_with(".npy")) {
    std::vector<double> values(out.numElements());
    for (int64_t i = 0; i < out.numElements(); ++i)
      values[i] = out.get(i);
    if (!writeNpy(outputCSV, out.shape(), values, info.isF64, error))
      return Session::error(error), 1;
    return 0;
  }
  std::string text;
  for (int64_t k = 0; k < width; ++k)
    text += fmt::format("{}{}", k ? "," : "",
                        width == 1 ? info.output->name
                                   : fmt::format("{}{}", info.output->name, k));
  text += "\n";
  for (int64_t i = 0; i < data.rows; ++i) {
    for (int64_t k = 0; k < width; ++k)
      text += fmt::format("{}{:.9g}", k ? "," : "", out.get(i * width + k));
    text += "\n";
  }
  if (outputCSV == "-") {
    outs() << text;
    return 0;
  }
  return writeOutputFile(outputCSV, text) ? 0 : 1;
}
