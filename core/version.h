// version.h: the version of mlpd and how this binary was built, one definition for the server
// (GetServerInfo) and the clients (mlpctl version).
//
//   std::cout << "mlpd " << MlpdVersion() << " (" << BuildDescription() << ")\n";
#ifndef MLPD_CORE_VERSION_H_
#define MLPD_CORE_VERSION_H_

#include <string>

namespace mlpd {

// kApiVersion is the API this build speaks: the proto package and the version of its rules.
inline constexpr char kApiVersion[] = "mlpd.v1 1.0";

// MlpdVersion is the project's version (CMakeLists.txt's project()), e.g. "0.1.0".
std::string MlpdVersion();

// BuildDescription says how the binary was built: "Release, GNU 12.2.0".
std::string BuildDescription();

}  // namespace mlpd

#endif  // MLPD_CORE_VERSION_H_
