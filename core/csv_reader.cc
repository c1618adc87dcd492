// The CSV half of dataset.h: ReadCsv and ParseCsv. Numbers are parsed with std::from_chars
// (locale-free and several times faster than streams) over the whole text held in memory.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "core/dataset.h"
#include "core/input_file.h"

namespace mlpd {
namespace {

constexpr size_t kMaxQuotedCell = 40;

absl::string_view Trim(absl::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

// Quoted shows a cell in an error message, escaped and cut short so a binary file can neither
// flood nor garble the log.
std::string Quoted(absl::string_view cell) {
  if (cell.size() <= kMaxQuotedCell) return absl::StrCat("\"", absl::CHexEscape(cell), "\"");
  return absl::StrCat("\"", absl::CHexEscape(cell.substr(0, kMaxQuotedCell)), "...\"");
}

// ParseNumber parses the whole of `cell` as a T; false when anything is left over.
template <typename T>
bool ParseNumber(absl::string_view cell, T* value, bool* out_of_range) {
  *out_of_range = false;
  if (!cell.empty() && cell.front() == '+') cell.remove_prefix(1);
  if (cell.empty()) return false;
  const std::from_chars_result result =
      std::from_chars(cell.data(), cell.data() + cell.size(), *value);
  if (result.ptr != cell.data() + cell.size()) return false;
  if (result.ec == std::errc::result_out_of_range) {
    *out_of_range = true;
    return false;
  }
  return result.ec == std::errc();
}

// Line is one non-blank line of the text, split into trimmed cells.
struct Line {
  int64_t number = 0;
  std::vector<absl::string_view> cells;
};

void SplitCells(absl::string_view text, std::vector<absl::string_view>* cells) {
  cells->clear();
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    if (comma == absl::string_view::npos) {
      cells->push_back(Trim(text.substr(start)));
      return;
    }
    cells->push_back(Trim(text.substr(start, comma - start)));
    start = comma + 1;
  }
}

// LineReader walks the lines of a text, skipping blank ones.
class LineReader {
 public:
  explicit LineReader(absl::string_view text) : text_(text) {}

  bool Next(Line* line) {
    while (position_ < text_.size()) {
      const char* begin = text_.data() + position_;
      const void* newline = std::memchr(begin, '\n', text_.size() - position_);
      const size_t length =
          newline == nullptr ? text_.size() - position_ : static_cast<const char*>(newline) - begin;
      position_ += length + 1;
      ++line_number_;
      const absl::string_view content = Trim(absl::string_view(begin, length));
      if (content.empty()) continue;
      line->number = line_number_;
      SplitCells(content, &line->cells);
      return true;
    }
    return false;
  }

 private:
  absl::string_view text_;
  size_t position_ = 0;
  int64_t line_number_ = 0;
};

// SeparatorHint points at the usual reason a whole line lands in one cell: another separator.
std::string SeparatorHint(absl::string_view text) {
  for (const auto& [separator, name] :
       {std::pair<char, const char*>{';', "';'"}, {'\t', "a tab"}}) {
    if (text.find(separator) != absl::string_view::npos) {
      return absl::StrCat(" (cells are separated by ','; this holds ", name, ")");
    }
  }
  return "";
}

bool LooksLikeHeader(const Line& line) {
  for (absl::string_view cell : line.cells) {
    double value;
    bool out_of_range;
    if (ParseNumber(cell, &value, &out_of_range) || out_of_range) return false;
  }
  return true;
}

// CsvParser turns the lines into a Dataset, remembering where it is for error messages.
class CsvParser {
 public:
  CsvParser(const CsvOptions& options, const std::string& source_name)
      : options_(options), source_name_(source_name) {}

  absl::StatusOr<Dataset> Parse(absl::string_view text) {
    if (options_.label_column && options_.target_columns > 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(source_name_, ": label_column and target_columns (", options_.target_columns,
                       ") exclude each other; set one"));
    }
    if (options_.target_columns < 0) {
      return absl::InvalidArgumentError(absl::StrCat(source_name_, ": target_columns is ",
                                                     options_.target_columns, ", expected >= 0"));
    }
    // Spreadsheet exports often start with a UTF-8 byte order mark; it is not part of the data.
    absl::ConsumePrefix(&text, "\xEF\xBB\xBF");
    LineReader reader(text);
    Line line;
    bool first = true;
    while (reader.Next(&line)) {
      if (first) {
        first = false;
        if (options_.skip_header) continue;
        if (LooksLikeHeader(line)) {
          header_line_ = line.number;
          header_text_ = absl::StrJoin(line.cells, ",");
          continue;
        }
      }
      if (columns_ == 0) {
        absl::Status status = StartTable(line);
        if (!status.ok()) return status;
        // Growing by doubling would copy a big file's values several times over.
        Reserve(std::count(text.begin(), text.end(), '\n') + 1);
      }
      absl::Status status = AddRow(line);
      if (!status.ok()) return status;
    }
    if (columns_ == 0 && header_line_ > 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          source_name_, ": no data rows: line ", header_line_, " ", Quoted(header_text_),
          " was read as a header, as none of its cells is a number", SeparatorHint(header_text_)));
    }
    if (columns_ == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(source_name_, ": no data rows, expected at least one line of numbers"));
    }
    dataset_.x.cols = feature_columns_;
    dataset_.x.rows = static_cast<int64_t>(dataset_.x.data.size()) / feature_columns_;
    if (options_.target_columns > 0) {
      dataset_.targets.cols = options_.target_columns;
      dataset_.targets.rows = dataset_.x.rows;
    }
    dataset_.has_labels = options_.label_column;
    return std::move(dataset_);
  }

 private:
  absl::Status StartTable(const Line& line) {
    columns_ = static_cast<int64_t>(line.cells.size());
    first_data_line_ = line.number;
    const int64_t reserved = options_.label_column ? 1 : options_.target_columns;
    feature_columns_ = columns_ - reserved;
    if (feature_columns_ < 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          source_name_, ": line ", line.number, " has ", columns_, " columns, expected at least ",
          reserved + 1, " (", reserved, options_.label_column ? " label" : " target",
          " column(s) and at least one input column)",
          SeparatorHint(absl::StrJoin(line.cells, ","))));
    }
    return absl::OkStatus();
  }

  void Reserve(int64_t rows) {
    dataset_.x.data.reserve(static_cast<size_t>(rows * feature_columns_));
    if (options_.label_column) {
      dataset_.labels.reserve(static_cast<size_t>(rows));
    } else {
      dataset_.targets.data.reserve(static_cast<size_t>(rows * options_.target_columns));
    }
  }

  absl::Status AddRow(const Line& line) {
    if (static_cast<int64_t>(line.cells.size()) != columns_) {
      return absl::InvalidArgumentError(
          absl::StrCat(source_name_, ": line ", line.number, " has ", line.cells.size(),
                       " columns, expected ", columns_, " (as line ", first_data_line_, ")",
                       SeparatorHint(absl::StrJoin(line.cells, ","))));
    }
    for (int64_t column = 0; column < columns_; ++column) {
      const absl::string_view cell = line.cells[column];
      if (column >= feature_columns_ && options_.label_column) {
        absl::StatusOr<int32_t> label = ParseLabel(line.number, column, cell);
        if (!label.ok()) return label.status();
        dataset_.labels.push_back(*label);
        continue;
      }
      float value;
      bool out_of_range;
      if (!ParseNumber(cell, &value, &out_of_range)) {
        return CellError(line.number, column, cell,
                         out_of_range ? "is out of float range" : "is not a number");
      }
      if (!std::isfinite(value)) {
        return CellError(line.number, column, cell, "is not finite, expected a finite number");
      }
      (column < feature_columns_ ? dataset_.x.data : dataset_.targets.data).push_back(value);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<int32_t> ParseLabel(int64_t line_number, int64_t column, absl::string_view cell) {
    double value;
    bool out_of_range;
    if (!ParseNumber(cell, &value, &out_of_range) || !std::isfinite(value)) {
      return CellError(line_number, column, cell, "is not a class label, expected an integer >= 0");
    }
    if (value < 0) {
      return CellError(line_number, column, cell, "is negative, expected a class label >= 0");
    }
    if (value != std::floor(value)) {
      return CellError(line_number, column, cell, "is not an integer, expected a class label >= 0");
    }
    if (value > std::numeric_limits<int32_t>::max()) {
      return CellError(line_number, column, cell,
                       absl::StrCat("is too large, expected a class label <= ",
                                    std::numeric_limits<int32_t>::max()));
    }
    return static_cast<int32_t>(value);
  }

  absl::Status CellError(int64_t line_number, int64_t column, absl::string_view cell,
                         absl::string_view problem) const {
    const char* role = column < feature_columns_ ? "input"
                       : options_.label_column   ? "label"
                                                 : "target";
    return absl::InvalidArgumentError(
        absl::StrCat(source_name_, ": line ", line_number, ", column ", column + 1, " (", role,
                     "): ", Quoted(cell), " ", problem, SeparatorHint(cell)));
  }

  const CsvOptions& options_;
  const std::string& source_name_;
  int64_t columns_ = 0;
  int64_t feature_columns_ = 0;
  int64_t first_data_line_ = 0;
  int64_t header_line_ = 0;  // The first line when it was taken for a header, else 0.
  std::string header_text_;
  Dataset dataset_;
};

}  // namespace

absl::StatusOr<Dataset> ParseCsv(const std::string& text, const CsvOptions& options,
                                 const std::string& source_name) {
  return CsvParser(options, source_name).Parse(text);
}

absl::StatusOr<Dataset> ReadCsv(const std::string& path, const CsvOptions& options) {
  absl::StatusOr<InputFile> file = InputFile::Open(path);
  if (!file.ok()) return file.status();
  absl::StatusOr<std::string> text = file->ReadRest();
  if (!text.ok()) return text.status();
  return ParseCsv(*text, options, path);
}

}  // namespace mlpd
