// Registration of everything dlc's tools need: dialects, passes, pipelines.
#ifndef DLC_INITALL_H
#define DLC_INITALL_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace mlir::dlc {

/// The dialects dlc produces and consumes, with their external models.
void registerAllDialects(DialectRegistry &registry);
/// dlc's passes and pipelines (and MLIR's upstream passes).
void registerAllPasses();

} // namespace mlir::dlc

#endif // DLC_INITALL_H
