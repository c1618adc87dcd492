#include "client/data_flags.h"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <iterator>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace mlpd {
namespace {

absl::StatusOr<Dataset> ReadSource(const DataFlags& flags) {
  const bool idx = !flags.idx_images.empty() || !flags.idx_labels.empty();
  if (idx && !flags.csv.empty()) {
    return absl::InvalidArgumentError("give either --idx-images/--idx-labels or --csv, not both");
  }
  if (idx) {
    if (flags.idx_images.empty() || flags.idx_labels.empty()) {
      return absl::InvalidArgumentError("--idx-images and --idx-labels go together");
    }
    return ReadIdx(flags.idx_images, flags.idx_labels);
  }
  if (flags.csv.empty()) {
    return absl::InvalidArgumentError(
        "no data: give --csv FILE (or -) or --idx-images/--idx-labels");
  }
  if (flags.label_column && flags.target_columns > 0) {
    return absl::InvalidArgumentError("give either --label-column or --target-columns, not both");
  }
  CsvOptions options;
  options.label_column = flags.label_column;
  options.target_columns = flags.target_columns;
  if (flags.csv == "-") {
    std::string text(std::istreambuf_iterator<char>(std::cin), {});
    return ParseCsv(text, options);
  }
  return ReadCsv(flags.csv, options);
}

absl::StatusOr<Standardization> ParseNormalize(const std::string& text) {
  std::vector<std::string> parts = absl::StrSplit(text, ',');
  Standardization standardization;
  if (parts.size() != 2 || !absl::SimpleAtod(parts[0], &standardization.mean) ||
      !absl::SimpleAtod(parts[1], &standardization.std) || !std::isfinite(standardization.mean) ||
      !(standardization.std > 0) || !std::isfinite(standardization.std)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--normalize: \"", text, "\" is neither \"fit\" nor MEAN,STD with STD > 0"));
  }
  return standardization;
}

}  // namespace

absl::StatusOr<LoadedData> LoadData(const DataFlags& flags) {
  // 0 is this field's "not given" (all rows); a typed --limit is N >= 1, which mlpctl checks.
  if (flags.limit < 0) {
    return absl::InvalidArgumentError(absl::StrCat("--limit is ", flags.limit, ", expected >= 1"));
  }
  if (flags.one_hot_base != 0 && flags.one_hot_base != -1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--one-hot-base is ", flags.one_hot_base, ", expected 0 or -1"));
  }
  LoadedData loaded;
  absl::StatusOr<Dataset> dataset = ReadSource(flags);
  if (!dataset.ok()) return dataset.status();
  loaded.dataset = *std::move(dataset);
  if (flags.limit > 0) loaded.dataset.KeepFirst(flags.limit);
  if (!flags.normalize.empty()) {
    if (flags.normalize == "fit") {
      loaded.standardization = FitStandardization(loaded.dataset);
    } else {
      absl::StatusOr<Standardization> given = ParseNormalize(flags.normalize);
      if (!given.ok()) return given.status();
      loaded.standardization = *given;
    }
    ApplyStandardization(*loaded.standardization, &loaded.dataset);
  }
  if (flags.one_hot != 0) {
    if (!loaded.dataset.has_labels) {
      return absl::InvalidArgumentError(
          "--one-hot needs class labels (--idx-labels or --label-column)");
    }
    int64_t classes = flags.classes;
    if (classes == 0) {
      int32_t largest = 0;
      for (int32_t label : loaded.dataset.labels) largest = std::max(largest, label);
      classes = std::max<int64_t>(2, int64_t{largest} + 1);
    }
    absl::Status status = OneHotTargets(classes, static_cast<float>(flags.one_hot),
                                        static_cast<float>(flags.one_hot_base), &loaded.dataset);
    if (!status.ok()) return status;
  }
  return loaded;
}

absl::Status RequireTargets(const DataFlags& flags, absl::string_view command) {
  // IDX data always has its labels; a CSV has targets only where the flags point at them.
  if (flags.csv.empty() || flags.label_column || flags.target_columns > 0) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      command, " needs targets or labels, and --csv has neither (no --label-column, ",
      "--target-columns ", flags.target_columns,
      "): give --label-column (the last column is a class label) or --target-columns K >= 1 (the "
      "last K columns are float targets)"));
}

}  // namespace mlpd
