#include "client/history_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace mlpd {
namespace {

// Column accumulates the points of one column of the chart.
struct Column {
  double train_sum = 0, eval_sum = 0;
  int train_count = 0, eval_count = 0;
};

int RowOf(double value, double low, double high, int height) {
  const double fraction = high > low ? (value - low) / (high - low) : 0.5;
  const int row = static_cast<int>(std::lround(fraction * (height - 1)));
  return std::clamp(row, 0, height - 1);
}

void Mark(char mark, char* cell) {
  if (*cell == ' ' || *cell == mark) {
    *cell = mark;
  } else {
    *cell = '#';
  }
}

}  // namespace

std::string PlotHistory(const std::vector<v1::HistoryPoint>& points, PlotSize size) {
  const int width = std::max(size.width, 8), height = std::max(size.height, 4);
  int64_t first_step = std::numeric_limits<int64_t>::max(), last_step = 0;
  double low = std::numeric_limits<double>::infinity(), high = -low;
  for (const v1::HistoryPoint& point : points) {
    first_step = std::min(first_step, point.step());
    last_step = std::max(last_step, point.step());
    std::vector<double> losses = {point.train_loss()};
    if (point.has_eval()) losses.push_back(point.eval().loss());
    for (double loss : losses) {
      if (!std::isfinite(loss)) continue;
      low = std::min(low, loss);
      high = std::max(high, loss);
    }
  }
  if (points.empty() || !std::isfinite(low)) return "no points to plot\n";

  std::vector<Column> columns(static_cast<size_t>(width));
  const double span = static_cast<double>(std::max<int64_t>(last_step - first_step, 1));
  for (const v1::HistoryPoint& point : points) {
    const int column =
        std::clamp(static_cast<int>(std::lround((point.step() - first_step) / span * (width - 1))),
                   0, width - 1);
    if (std::isfinite(point.train_loss())) {
      columns[column].train_sum += point.train_loss();
      ++columns[column].train_count;
    }
    if (point.has_eval() && std::isfinite(point.eval().loss())) {
      columns[column].eval_sum += point.eval().loss();
      ++columns[column].eval_count;
    }
  }
  std::vector<std::string> grid(static_cast<size_t>(height), std::string(width, ' '));
  for (int column = 0; column < width; ++column) {
    const Column& cell = columns[column];
    if (cell.train_count > 0) {
      const int row = RowOf(cell.train_sum / cell.train_count, low, high, height);
      Mark('*', &grid[height - 1 - row][column]);
    }
    if (cell.eval_count > 0) {
      const int row = RowOf(cell.eval_sum / cell.eval_count, low, high, height);
      Mark('o', &grid[height - 1 - row][column]);
    }
  }

  const std::string top = absl::StrFormat("%.4g", high), bottom = absl::StrFormat("%.4g", low);
  const size_t label_width = std::max(top.size(), bottom.size());
  std::string chart = absl::StrCat("loss  (* train, o eval, # both)\n");
  for (int row = 0; row < height; ++row) {
    std::string label = row == 0 ? top : row == height - 1 ? bottom : "";
    label.insert(0, label_width - label.size(), ' ');
    absl::StrAppend(&chart, label, " |", grid[row], "\n");
  }
  absl::StrAppend(&chart, std::string(label_width, ' '), " +", std::string(width, '-'), "\n");
  const std::string first = absl::StrCat(first_step), last = absl::StrCat(last_step);
  const int gap = std::max<int>(1, width - static_cast<int>(first.size() + last.size()));
  absl::StrAppend(&chart, std::string(label_width + 2, ' '), first, std::string(gap, ' '), last,
                  "\n", std::string(label_width + 2, ' '), "step\n");
  return chart;
}

}  // namespace mlpd
