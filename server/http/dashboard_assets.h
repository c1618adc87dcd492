// dashboard_assets.h: the dashboard's files, embedded in the binary at build time so the image
// serves them with nothing else installed and nothing fetched from a CDN.
//
// The page and its script are this folder's dashboard/ files; Chart.js is Debian's
// libjs-chart.js, checked against a pinned version and SHA-256 by this folder's CMakeLists.txt.
// The definitions are generated into the build folder (embed_assets.cmake), never committed.
//
//   const DashboardAsset* asset = FindDashboardAsset("/assets/chart.min.js");
#ifndef MLPD_SERVER_HTTP_DASHBOARD_ASSETS_H_
#define MLPD_SERVER_HTTP_DASHBOARD_ASSETS_H_

#include "absl/strings/string_view.h"

namespace mlpd {

struct DashboardAsset {
  absl::string_view path;          // As requested, e.g. "/" or "/assets/dashboard.js".
  absl::string_view content_type;  // e.g. "text/html; charset=utf-8".
  absl::string_view body;
};

// FindDashboardAsset returns the asset served at `path`, or nullptr.
const DashboardAsset* FindDashboardAsset(absl::string_view path);

}  // namespace mlpd

#endif  // MLPD_SERVER_HTTP_DASHBOARD_ASSETS_H_
