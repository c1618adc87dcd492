// history_plot.h: a learning curve drawn as a compact line chart for the terminal.
//
// `mlpctl history NAME --plot` draws train loss ('*') and eval loss ('o') against step, with
// the loss axis on the left and the step axis below; where both fall in one cell it shows '#'.
// Each column shows the mean of the points whose step falls in it, so thousands of points
// still draw as one readable curve.
//
//   std::string chart = PlotHistory(points, {/*width=*/72, /*height=*/16});
//   std::cout << chart;
#ifndef MLPD_CLIENT_HISTORY_PLOT_H_
#define MLPD_CLIENT_HISTORY_PLOT_H_

#include <string>
#include <vector>

#include "mlpd/v1/mlpd.pb.h"

namespace mlpd {

struct PlotSize {
  int width = 72;   // Columns of the plotting area (the axis labels come on top), >= 8.
  int height = 16;  // Rows of the plotting area, >= 4.
};

// PlotHistory draws the chart, ending with a newline; a one-line note when there is nothing to
// draw (no points, or no finite loss).
std::string PlotHistory(const std::vector<v1::HistoryPoint>& points, PlotSize size = {});

}  // namespace mlpd

#endif  // MLPD_CLIENT_HISTORY_PLOT_H_
