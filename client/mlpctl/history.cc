// The history command: a session's learning curve, as a table, CSV, JSON or a terminal chart.
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include "client/history_plot.h"
#include "client/mlpctl/command.h"
#include "client/mlpctl/flag_checks.h"
#include "client/mlpctl/history_output.h"
#include "client/mlpctl/output.h"

namespace mlpd::mlpctl {
namespace {

class HistoryCommand : public Command {
 public:
  explicit HistoryCommand(CLI::App& app)
      : Command(app, "history", "Show a session's learning curve (train and eval loss by step)") {
    cli().add_option("NAME", name_, "Session name")->required();
    cli()
        .add_option("--from-step", from_step_, "Only points from this step on")
        ->transform(IntegerFlag(0));
    cli()
        .add_option("--max-points", max_points_,
                    "At most N points, evenly thinned (default: every point kept)")
        ->transform(IntegerFlag(1, std::numeric_limits<int32_t>::max()));
    CLI::Option* csv = cli().add_flag("--csv", csv_, "CSV with a header line, for scripts");
    CLI::Option* plot =
        cli().add_flag("--plot", plot_, "Draw train and eval loss against step")->excludes(csv);
    cli()
        .add_option("--width", plot_size_.width, "With --plot: columns of the chart")
        ->transform(IntegerFlag(8, 1000))
        ->needs(plot)
        ->capture_default_str();
    cli()
        .add_option("--height", plot_size_.height, "With --plot: rows of the chart")
        ->transform(IntegerFlag(4, 1000))
        ->needs(plot)
        ->capture_default_str();
    cli().footer(
        Example("  mlpctl history digits --plot\n  mlpctl history digits --csv > curve.csv\n"
                "  mlpctl history digits --json --from-step 1000 --max-points 200"));
  }

  int Run(const CommandContext& context) override {
    if (context.global.json && (csv_ || plot_)) {
      return UsageError("--json, --csv and --plot are different outputs; choose one");
    }
    absl::StatusOr<std::vector<v1::HistoryPoint>> points =
        context.client.GetHistory(name_, from_step_, max_points_);
    if (!points.ok()) return Refused(points.status());
    if (csv_) {
      std::cout << HistoryCsv(*points);
    } else if (plot_) {
      std::cout << PlotHistory(*points, plot_size_);
    } else {
      Print(context.global.json, HistoryJson(*points), HistoryTable(*points));
    }
    return kExitOk;
  }

 private:
  std::string name_;
  int64_t from_step_ = 0;
  int32_t max_points_ = 0;
  bool csv_ = false;
  bool plot_ = false;
  PlotSize plot_size_;
};

const RegisterCommand<HistoryCommand> kHistory(/*help_order=*/89);

}  // namespace
}  // namespace mlpd::mlpctl
