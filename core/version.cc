#include "core/version.h"

#include "absl/strings/str_cat.h"

// core/CMakeLists.txt defines these for this file alone, so a new version or compiler
// recompiles one file rather than the whole build.
#if !defined(MLPD_VERSION) || !defined(MLPD_BUILD_TYPE) || !defined(MLPD_COMPILER)
#error "MLPD_VERSION, MLPD_BUILD_TYPE and MLPD_COMPILER come from core/CMakeLists.txt"
#endif

namespace mlpd {

std::string MlpdVersion() { return MLPD_VERSION; }

std::string BuildDescription() {
  const char* build_type = MLPD_BUILD_TYPE;
  return absl::StrCat(build_type[0] == '\0' ? "no build type" : build_type, ", ", MLPD_COMPILER);
}

}  // namespace mlpd
