// Tests of the in-memory datasets: IDX and CSV readers (good and bad files), the practical's
// preprocessing (standardization, one-hot targets, first-N rows), Validate and BatchIterator.
#include "core/dataset.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "core/epoch_order.h"
#include "core/idx_reader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mlpd {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::FloatNear;
using ::testing::HasSubstr;

// TempFiles writes files unique to this process and removes them at the end of the test.
class TempFiles {
 public:
  ~TempFiles() {
    for (const std::string& path : paths_) std::remove(path.c_str());
  }
  std::string Write(const std::string& name, const std::string& bytes) {
    const std::string path =
        ::testing::TempDir() + "/mlpd_dataset_test_" + std::to_string(getpid()) + "_" + name;
    std::ofstream(path, std::ios::binary) << bytes;
    paths_.push_back(path);
    return path;
  }

 private:
  std::vector<std::string> paths_;
};

std::string BigEndian(uint32_t value) {
  return std::string{static_cast<char>(value >> 24), static_cast<char>(value >> 16),
                     static_cast<char>(value >> 8), static_cast<char>(value)};
}

// Idx builds an unsigned-byte IDX file of the given shape whose values count up from `first`.
std::string Idx(const std::vector<uint32_t>& dims, int first = 0) {
  std::string bytes{0, 0, 0x08, static_cast<char>(dims.size())};
  uint64_t count = 1;
  for (uint32_t dim : dims) {
    bytes += BigEndian(dim);
    count *= dim;
  }
  for (uint64_t i = 0; i < count; ++i) bytes += static_cast<char>((first + i) % 256);
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// IDX

TEST(ReadIdxTest, RoundTripsImagesAndLabels) {
  TempFiles files;
  const std::string images = files.Write("images", Idx({3, 2, 2}, 250));
  const std::string labels = files.Write("labels", Idx({3}, 7));
  absl::StatusOr<Dataset> dataset = ReadIdx(images, labels);
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  EXPECT_EQ(dataset->rows(), 3);
  EXPECT_EQ(dataset->x.cols, 4);
  // Pixels stay raw bytes: 250..255 then wrap to 0..5.
  EXPECT_THAT(dataset->x.data, ElementsAre(250, 251, 252, 253, 254, 255, 0, 1, 2, 3, 4, 5));
  EXPECT_TRUE(dataset->has_labels);
  EXPECT_THAT(dataset->labels, ElementsAre(7, 8, 9));
  EXPECT_EQ(dataset->targets.rows, 0);
  EXPECT_TRUE(dataset->Validate().ok());
  EXPECT_EQ(dataset->ByteSize(), 12 * 4 + 3 * 4);
}

TEST(ReadIdxTest, MaxRowsReadsOnlyTheFirstRows) {
  TempFiles files;
  const std::string images = files.Write("images", Idx({3, 2}, 10));
  const std::string labels = files.Write("labels", Idx({3}, 1));
  absl::StatusOr<Dataset> dataset = ReadIdx(images, labels, /*max_rows=*/2);
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  EXPECT_EQ(dataset->rows(), 2);
  EXPECT_THAT(dataset->x.data, ElementsAre(10, 11, 12, 13));
  EXPECT_THAT(dataset->labels, ElementsAre(1, 2));
  absl::StatusOr<Dataset> more = ReadIdx(images, labels, /*max_rows=*/10);
  ASSERT_TRUE(more.ok()) << more.status();
  EXPECT_EQ(more->rows(), 3);
}

TEST(ReadIdxTest, ReadIdxFileKeepsTheHeaderDims) {
  TempFiles files;
  absl::StatusOr<IdxArray> array = ReadIdxFile(files.Write("a", Idx({2, 3, 4})));
  ASSERT_TRUE(array.ok()) << array.status();
  EXPECT_THAT(array->dims, ElementsAre(2, 3, 4));
  EXPECT_EQ(array->ItemSize(), 12);
  EXPECT_EQ(array->rows_read, 2);
  EXPECT_EQ(array->values.size(), 24u);
}

void ExpectInvalid(const absl::StatusOr<Dataset>& result, const std::vector<std::string>& parts) {
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << result.status();
  for (const std::string& part : parts) {
    EXPECT_THAT(std::string(result.status().message()), HasSubstr(part));
  }
}

TEST(ReadIdxTest, RejectsTruncatedFiles) {
  TempFiles files;
  const std::string labels = files.Write("labels", Idx({3}));
  std::string full = Idx({3, 2, 2});
  const std::string short_data = files.Write("short", full.substr(0, full.size() - 1));
  ExpectInvalid(ReadIdx(short_data, labels),
                {short_data, "3x2x2", "needs 28", "has 27", "truncated"});
  const std::string short_header = files.Write("header", full.substr(0, 9));
  ExpectInvalid(ReadIdx(short_header, labels), {short_header, "header", "needs 16", "has 9"});
  const std::string empty = files.Write("empty", "");
  ExpectInvalid(ReadIdx(empty, labels), {empty, "truncated", "has 0"});
  const std::string trailing = files.Write("trailing", full + "x");
  ExpectInvalid(ReadIdx(trailing, labels), {trailing, "needs 28", "has 29", "trailing"});
}

TEST(ReadIdxTest, RejectsHeadersClaimingMoreThanTheFile) {
  TempFiles files;
  const std::string labels = files.Write("labels", Idx({1}));
  // 4 billion images of 4 billion pixels each: must neither overflow nor allocate.
  std::string header{0, 0, 0x08, 2};
  header += BigEndian(0xFFFFFFFFu) + BigEndian(0xFFFFFFFFu);
  const std::string huge_item = files.Write("huge_item", header);
  ExpectInvalid(ReadIdx(huge_item, labels), {huge_item, "exceed"});
  header = std::string{0, 0, 0x08, 2} + BigEndian(0xFFFFFFFFu) + BigEndian(1000);
  const std::string many = files.Write("many", header + std::string(1000, 'a'));
  ExpectInvalid(ReadIdx(many, labels), {many, "more than 1012", "truncated"});
}

TEST(ReadIdxTest, RejectsWrongMagicAndType) {
  TempFiles files;
  const std::string labels = files.Write("labels", Idx({2}));
  std::string bytes = Idx({2, 2});
  bytes[0] = 0x1f;
  const std::string magic = files.Write("magic", bytes);
  ExpectInvalid(ReadIdx(magic, labels), {magic, "not an IDX file", "0x1f000802"});
  bytes = Idx({2, 2});
  bytes[2] = 0x0d;
  const std::string type = files.Write("type", bytes);
  ExpectInvalid(ReadIdx(type, labels), {type, "0x0d", "expected 0x08"});
  bytes = std::string{0, 0, 0x08, 0};
  const std::string no_dims = files.Write("nodims", bytes);
  ExpectInvalid(ReadIdx(no_dims, labels), {no_dims, "dimension count is 0"});
}

TEST(ReadIdxTest, RejectsMismatchedAndMisshapenFiles) {
  TempFiles files;
  const std::string images = files.Write("images", Idx({3, 2}));
  const std::string labels = files.Write("labels", Idx({2}));
  ExpectInvalid(ReadIdx(images, labels), {images, labels, "3 images", "2 labels"});
  const std::string flat = files.Write("flat", Idx({3}));
  ExpectInvalid(ReadIdx(flat, files.Write("labels3", Idx({3}))), {flat, "at least 2 dimensions"});
  const std::string labels_2d = files.Write("labels2d", Idx({3, 1}));
  ExpectInvalid(ReadIdx(images, labels_2d), {labels_2d, "exactly 1 dimension", "has 2"});
}

TEST(ReadIdxTest, MissingFileIsNotFound) {
  const std::string missing = ::testing::TempDir() + "/mlpd_no_such_file";
  absl::StatusOr<Dataset> result = ReadIdx(missing, missing);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(result.status().message()), HasSubstr(missing));
  // A directory is not a file either.
  ExpectInvalid(ReadIdx(::testing::TempDir(), missing), {"not a regular file"});
}

// ---------------------------------------------------------------------------------------------
// CSV

CsvOptions Labels() {
  CsvOptions options;
  options.label_column = true;
  return options;
}

CsvOptions Targets(int64_t columns) {
  CsvOptions options;
  options.target_columns = columns;
  return options;
}

TEST(ParseCsvTest, LastColumnAsLabel) {
  absl::StatusOr<Dataset> dataset = ParseCsv("1,2,3\n4.5,-6e-1,0\n", Labels());
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  EXPECT_TRUE(dataset->has_labels);
  EXPECT_EQ(dataset->x.rows, 2);
  EXPECT_EQ(dataset->x.cols, 2);
  EXPECT_THAT(dataset->x.data, ElementsAre(1, 2, 4.5f, -0.6f));
  EXPECT_THAT(dataset->labels, ElementsAre(3, 0));
  EXPECT_TRUE(dataset->Validate().ok());
}

TEST(ParseCsvTest, LastColumnsAsTargets) {
  absl::StatusOr<Dataset> dataset = ParseCsv("1,2,3,4\n5,6,7,8\n", Targets(3));
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  EXPECT_FALSE(dataset->has_labels);
  EXPECT_EQ(dataset->x.cols, 1);
  EXPECT_THAT(dataset->x.data, ElementsAre(1, 5));
  EXPECT_EQ(dataset->targets.rows, 2);
  EXPECT_EQ(dataset->targets.cols, 3);
  EXPECT_THAT(dataset->targets.data, ElementsAre(2, 3, 4, 6, 7, 8));
  EXPECT_TRUE(dataset->Validate().ok());
}

TEST(ParseCsvTest, NoTargetsKeepsEveryColumnAsInput) {
  absl::StatusOr<Dataset> dataset = ParseCsv("1,2\n3,4", CsvOptions());
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  EXPECT_EQ(dataset->x.cols, 2);
  EXPECT_THAT(dataset->x.data, ElementsAre(1, 2, 3, 4));
  EXPECT_EQ(dataset->targets.rows, 0);
  EXPECT_TRUE(dataset->labels.empty());
}

TEST(ParseCsvTest, HeadersBlankLinesSpacesAndCarriageReturns) {
  absl::StatusOr<Dataset> dataset =
      ParseCsv("a, b ,label\r\n\r\n 1 , +2,1\r\n\n3,4 ,\t0\r\n\n", Labels());
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  EXPECT_THAT(dataset->x.data, ElementsAre(1, 2, 3, 4));
  EXPECT_THAT(dataset->labels, ElementsAre(1, 0));

  // A numeric first line is data unless skip_header says otherwise.
  absl::StatusOr<Dataset> kept = ParseCsv("9,9,1\n1,2,0\n", Labels());
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(kept->rows(), 2);
  CsvOptions skip = Labels();
  skip.skip_header = true;
  absl::StatusOr<Dataset> skipped = ParseCsv("9,9,1\n1,2,0\n", skip);
  ASSERT_TRUE(skipped.ok()) << skipped.status();
  EXPECT_EQ(skipped->rows(), 1);
  EXPECT_THAT(skipped->labels, ElementsAre(0));
}

void ExpectCsvError(const std::string& text, const CsvOptions& options,
                    const std::vector<std::string>& parts) {
  absl::StatusOr<Dataset> result = ParseCsv(text, options, "data.csv");
  ASSERT_FALSE(result.ok()) << "accepted: " << text;
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << result.status();
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("data.csv")) << result.status();
  for (const std::string& part : parts) {
    EXPECT_THAT(std::string(result.status().message()), HasSubstr(part)) << result.status();
  }
}

TEST(ParseCsvTest, RejectsBadCellsNamingLineColumnAndValue) {
  ExpectCsvError("1,2,3\n4,5\n", Labels(), {"line 2", "2 columns", "expected 3", "line 1"});
  ExpectCsvError("x,y,z\n1,2,3\n4,5,6,7\n", Labels(), {"line 3", "4 columns", "expected 3"});
  ExpectCsvError("1,2,3\n4,abc,6\n", Labels(), {"line 2", "column 2", "\"abc\"", "not a number"});
  ExpectCsvError("1,2,3\n4,,6\n", Labels(), {"line 2", "column 2", "\"\""});
  ExpectCsvError("1,2,3\n4,1.5x,6\n", Labels(), {"line 2", "column 2", "\"1.5x\""});
  ExpectCsvError("1,nan,3\n", Labels(), {"line 1", "column 2", "\"nan\"", "not finite"});
  ExpectCsvError("1,2,3\n-inf,2,3\n", Labels(), {"line 2", "column 1", "\"-inf\"", "not finite"});
  ExpectCsvError("1,1e999,3\n", Labels(), {"line 1", "column 2", "\"1e999\"", "float range"});
  ExpectCsvError("1,2,3\n1,2,1e999\n", Targets(1), {"line 2", "column 3", "(target)"});
  ExpectCsvError("1,2,NaN\n", Targets(1), {"column 3", "(target)", "not finite"});
  // Another separator puts a whole line in one cell: the message says which.
  ExpectCsvError("0;0;1\n", Labels(),
                 {"no data rows: line 1 \"0;0;1\" was read as a header", "this holds ';'"});
  ExpectCsvError("a;b;c\n1;1;1\n", Labels(), {"line 2 has 1 columns", "this holds ';'"});
  ExpectCsvError("a;b;c\n1;1;1\n", CsvOptions{}, {"\"1;1;1\" is not a number", "';'"});
  ExpectCsvError("1\t2\t0\n", Labels(), {"read as a header", "this holds a tab"});
}

TEST(ParseCsvTest, RejectsBadLabels) {
  ExpectCsvError("1,2,3\n1,2,-1\n", Labels(),
                 {"line 2", "column 3", "(label)", "\"-1\"", "negative"});
  ExpectCsvError("1,2,2.5\n", Labels(), {"line 1", "column 3", "\"2.5\"", "not an integer"});
  ExpectCsvError("1,2,3\n1,2,dog\n", Labels(), {"line 2", "column 3", "\"dog\""});
  // A first line with some numbers is data, not a header, so its bad label is reported.
  ExpectCsvError("1,2,cat\n1,2,0\n", Labels(), {"line 1", "column 3", "\"cat\""});
  ExpectCsvError("1,2,inf\n", Labels(), {"\"inf\"", "class label"});
  ExpectCsvError("1,2,3e10\n", Labels(), {"\"3e10\"", "too large"});
  // Integers written with a fraction are still integers.
  absl::StatusOr<Dataset> dataset = ParseCsv("1,2,3.0\n", Labels());
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  EXPECT_THAT(dataset->labels, ElementsAre(3));
}

TEST(ParseCsvTest, RejectsEmptyInputAndImpossibleOptions) {
  ExpectCsvError("", Labels(), {"no data rows"});
  ExpectCsvError("a,b,c\n\n", Labels(), {"no data rows"});
  ExpectCsvError("1\n2\n", Labels(), {"line 1", "1 columns", "at least 2"});
  ExpectCsvError("1,2\n", Targets(2), {"2 columns", "at least 3"});
  CsvOptions both = Labels();
  both.target_columns = 1;
  ExpectCsvError("1,2,3\n", both, {"label_column", "target_columns"});
  ExpectCsvError("1,2,3\n", Targets(-1), {"target_columns is -1"});
}

TEST(ParseCsvTest, SkipsAByteOrderMarkAndEscapesBinaryCells) {
  absl::StatusOr<Dataset> dataset = ParseCsv(
      "\xEF\xBB\xBF"
      "1,2,3\n",
      Labels());
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  EXPECT_THAT(dataset->x.data, ElementsAre(1, 2));
  const char binary[] = {'1', ',', '2', ',', '3', '\n', '1', ',', '\x01', '\0', ',', '3'};
  ExpectCsvError(std::string(binary, sizeof(binary)), Labels(),
                 {"line 2", "column 2", "\"\\x01\\x00\""});
}

TEST(ParseCsvTest, QuotesLongCellsShortened) {
  const std::string cell(1000, 'z');
  absl::StatusOr<Dataset> result = ParseCsv("1,2,3\n1," + cell + ",3\n", Labels(), "f.csv");
  ASSERT_FALSE(result.ok());
  EXPECT_LT(result.status().message().size(), 200u) << result.status();
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("zzz...\""));
}

TEST(ReadCsvTest, ReadsAFileAndNamesItInErrors) {
  TempFiles files;
  const std::string good = files.Write("good.csv", "f1,f2,t\n0.5,1,2\n3,4,5\n");
  absl::StatusOr<Dataset> dataset = ReadCsv(good, Targets(1));
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  EXPECT_THAT(dataset->x.data, ElementsAre(0.5f, 1, 3, 4));
  EXPECT_THAT(dataset->targets.data, ElementsAre(2, 5));

  const std::string bad = files.Write("bad.csv", "1,2\n3,x\n");
  absl::StatusOr<Dataset> result = ReadCsv(bad, CsvOptions());
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(std::string(result.status().message()), HasSubstr(bad + ": line 2, column 2"));

  absl::StatusOr<Dataset> missing = ReadCsv(good + ".missing", CsvOptions());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

// ---------------------------------------------------------------------------------------------
// Preprocessing

Dataset Rows(std::vector<float> x, int64_t cols, std::vector<int32_t> labels) {
  Dataset dataset;
  dataset.x.cols = cols;
  dataset.x.rows = static_cast<int64_t>(x.size()) / cols;
  dataset.x.data = std::move(x);
  dataset.labels = std::move(labels);
  dataset.has_labels = true;
  return dataset;
}

TEST(StandardizationTest, FitsOneScalarMeanAndUnbiasedStd) {
  Dataset dataset = Rows({1, 2, 3, 4}, 2, {0, 1});
  Standardization fitted = FitStandardization(dataset);
  EXPECT_DOUBLE_EQ(fitted.mean, 2.5);
  EXPECT_DOUBLE_EQ(fitted.std, std::sqrt(5.0 / 3.0));  // Divides by n - 1, not n.
  ApplyStandardization(fitted, &dataset);
  const float s = static_cast<float>(std::sqrt(5.0 / 3.0));
  EXPECT_THAT(dataset.x.data, ElementsAre(FloatNear(-1.5f / s, 1e-6), FloatNear(-0.5f / s, 1e-6),
                                          FloatNear(0.5f / s, 1e-6), FloatNear(1.5f / s, 1e-6)));
  // Fitting again on standardized data gives mean 0, std 1.
  Standardization again = FitStandardization(dataset);
  EXPECT_NEAR(again.mean, 0.0, 1e-7);
  EXPECT_NEAR(again.std, 1.0, 1e-6);
}

TEST(StandardizationTest, GivenValuesApplyToOtherData) {
  Dataset dataset = Rows({10, 20}, 1, {0, 0});
  ApplyStandardization(Standardization{10.0, 5.0}, &dataset);
  EXPECT_THAT(dataset.x.data, ElementsAre(0.0f, 2.0f));
  ScaleInputs(0.9f, &dataset);
  EXPECT_THAT(dataset.x.data, ElementsAre(0.0f, 1.8f));
}

TEST(StandardizationTest, ConstantOrTinyDataOnlyCentres) {
  Standardization constant = FitStandardization(Rows({7, 7, 7}, 1, {0, 0, 0}));
  EXPECT_DOUBLE_EQ(constant.mean, 7.0);
  EXPECT_DOUBLE_EQ(constant.std, 1.0);
  Standardization single = FitStandardization(Rows({3}, 1, {0}));
  EXPECT_DOUBLE_EQ(single.mean, 3.0);
  EXPECT_DOUBLE_EQ(single.std, 1.0);
  Standardization empty = FitStandardization(Dataset());
  EXPECT_DOUBLE_EQ(empty.mean, 0.0);
  EXPECT_DOUBLE_EQ(empty.std, 1.0);
}

TEST(OneHotTargetsTest, ScaleAndBase) {
  Dataset dataset = Rows({0, 0}, 1, {2, 0});
  ASSERT_TRUE(OneHotTargets(3, 0.9f, 0.0f, &dataset).ok());
  EXPECT_FALSE(dataset.has_labels);
  EXPECT_TRUE(dataset.labels.empty());
  EXPECT_EQ(dataset.targets.rows, 2);
  EXPECT_EQ(dataset.targets.cols, 3);
  EXPECT_THAT(dataset.targets.data, ElementsAre(0, 0, 0.9f, 0.9f, 0, 0));
  EXPECT_TRUE(dataset.Validate().ok());

  Dataset signs = Rows({0, 0}, 1, {1, 0});
  ASSERT_TRUE(OneHotTargets(2, 1.0f, -1.0f, &signs).ok());
  EXPECT_THAT(signs.targets.data, ElementsAre(-1, 1, 1, -1));
}

TEST(OneHotTargetsTest, RejectsLabelsOutOfRangeLeavingTheDatasetUnchanged) {
  Dataset dataset = Rows({0, 0}, 1, {1, 3});
  absl::Status status = OneHotTargets(3, 1.0f, 0.0f, &dataset);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("labels[1] is 3"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("[0, 3)"));
  EXPECT_TRUE(dataset.has_labels);
  EXPECT_THAT(dataset.labels, ElementsAre(1, 3));
  EXPECT_EQ(dataset.targets.rows, 0);

  EXPECT_FALSE(OneHotTargets(0, 1.0f, 0.0f, &dataset).ok());
  ASSERT_TRUE(OneHotTargets(4, 1.0f, 0.0f, &dataset).ok());
  // Targets cannot be one-hot encoded a second time.
  EXPECT_EQ(OneHotTargets(4, 1.0f, 0.0f, &dataset).code(), absl::StatusCode::kInvalidArgument);
}

TEST(KeepFirstTest, TrimsEveryPart) {
  Dataset labelled = Rows({1, 2, 3, 4, 5, 6}, 2, {7, 8, 9});
  labelled.KeepFirst(2);
  EXPECT_EQ(labelled.rows(), 2);
  EXPECT_THAT(labelled.x.data, ElementsAre(1, 2, 3, 4));
  EXPECT_THAT(labelled.labels, ElementsAre(7, 8));
  labelled.KeepFirst(5);
  EXPECT_EQ(labelled.rows(), 2);
  EXPECT_TRUE(labelled.Validate().ok());

  Dataset targets = Rows({1, 2, 3}, 1, {0, 1, 1});
  ASSERT_TRUE(OneHotTargets(2, 1.0f, 0.0f, &targets).ok());
  targets.KeepFirst(1);
  EXPECT_EQ(targets.rows(), 1);
  EXPECT_EQ(targets.targets.rows, 1);
  EXPECT_THAT(targets.targets.data, ElementsAre(1, 0));
  EXPECT_TRUE(targets.Validate().ok());
  targets.KeepFirst(-3);
  EXPECT_EQ(targets.rows(), 0);
  EXPECT_TRUE(targets.targets.data.empty());
}

// A dataset file of 0 rows once loaded and then divided by zero in Train: Validate, which the
// data dir's loader runs, refuses datasets without rows or columns.
TEST(ValidateTest, RefusesDatasetsWithoutRowsOrColumns) {
  Dataset empty = Rows({1, 2, 3, 4}, 2, {0, 1});
  empty.KeepFirst(0);
  EXPECT_EQ(empty.rows(), 0);
  EXPECT_EQ(empty.Validate().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(empty.Validate().message()),
              HasSubstr("x has shape [0, 2]; a dataset holds at least one row and column"));

  Dataset no_columns;
  no_columns.x = Matrix{2, 0, {}};
  no_columns.labels = {0, 1};
  no_columns.has_labels = true;
  EXPECT_THAT(std::string(no_columns.Validate().message()), HasSubstr("x has shape [2, 0]"));
}

TEST(ValidateTest, NamesWhatIsWrong) {
  Dataset good = Rows({1, 2, 3, 4}, 2, {0, 1});
  EXPECT_TRUE(good.Validate().ok());

  Dataset short_x = good;
  short_x.x.data.pop_back();
  EXPECT_THAT(std::string(short_x.Validate().message()), HasSubstr("x holds 3 values"));

  Dataset few_labels = good;
  few_labels.labels.pop_back();
  EXPECT_THAT(std::string(few_labels.Validate().message()), HasSubstr("labels has 1 rows"));

  Dataset negative = good;
  negative.labels[1] = -2;
  EXPECT_THAT(std::string(negative.Validate().message()), HasSubstr("labels[1] is -2"));

  Dataset nan = good;
  nan.x.data[3] = std::nanf("");
  EXPECT_THAT(std::string(nan.Validate().message()), HasSubstr("x[1, 1] is nan"));

  Dataset targets = good;
  ASSERT_TRUE(OneHotTargets(2, 1.0f, 0.0f, &targets).ok());
  Dataset infinite = targets;
  infinite.targets.data[2] = INFINITY;
  EXPECT_THAT(std::string(infinite.Validate().message()), HasSubstr("targets[1, 0] is inf"));
  Dataset mismatch = targets;
  mismatch.targets.rows = 1;
  mismatch.targets.data.resize(2);
  EXPECT_THAT(std::string(mismatch.Validate().message()), HasSubstr("targets has 1 rows"));

  Dataset both = good;
  both.targets = targets.targets;
  EXPECT_FALSE(both.Validate().ok());
  for (const Dataset* bad : {&short_x, &few_labels, &negative, &nan, &infinite, &mismatch, &both}) {
    EXPECT_EQ(bad->Validate().code(), absl::StatusCode::kInvalidArgument);
  }
}

// A shape whose element count overflows int64 is refused as impossible (UBSan saw the product
// overflow in the message before).
TEST(ValidateTest, ShapesBeyondInt64AreImpossibleNotOverflowed) {
  Dataset huge = Rows({1, 2, 3, 4}, 2, {0, 1});
  huge.x.rows = int64_t{1} << 62;
  huge.x.cols = 4;
  const absl::Status status = huge.Validate();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("x holds 4 values, its shape [4611686018427387904, 4] is impossible"));
}

TEST(MatrixElementCountTest, CountsOrRefusesWithoutOverflow) {
  EXPECT_EQ(MatrixElementCount(3, 4), 12);
  EXPECT_EQ(MatrixElementCount(0, 7), 0);
  EXPECT_EQ(MatrixElementCount(int64_t{1} << 31, int64_t{1} << 31), int64_t{1} << 62);
  EXPECT_EQ(MatrixElementCount(int64_t{1} << 62, 4), -1);
  EXPECT_EQ(MatrixElementCount(std::numeric_limits<int64_t>::max(), 2), -1);
  EXPECT_EQ(MatrixElementCount(-1, 4), -1);
  EXPECT_EQ(MatrixElementCount(4, -1), -1);
}

// ---------------------------------------------------------------------------------------------
// BatchIterator

// Numbered has row i's single input equal to i, and labels (or targets) derived from i, so a
// batch shows which rows it gathered and whether their labels travelled with them.
Dataset Numbered(int64_t rows, bool with_targets) {
  std::vector<float> x(rows);
  std::iota(x.begin(), x.end(), 0.0f);
  std::vector<int32_t> labels(rows);
  for (int64_t i = 0; i < rows; ++i) labels[i] = static_cast<int32_t>(i % 3);
  Dataset dataset = Rows(x, 1, labels);
  if (with_targets) {
    EXPECT_TRUE(OneHotTargets(3, 1.0f, 0.0f, &dataset).ok());
  }
  return dataset;
}

// Epoch runs one epoch and returns the row indices in the order served, checking that every
// batch's targets belong to its rows.
std::vector<int64_t> Epoch(BatchIterator& batches, std::vector<int64_t>* sizes = nullptr) {
  std::vector<int64_t> order;
  MatrixView x;
  TargetsView y;
  while (batches.Next(&x, &y)) {
    if (sizes != nullptr) sizes->push_back(x.rows);
    EXPECT_EQ(y.rows(), x.rows);
    for (int64_t i = 0; i < x.rows; ++i) {
      const int64_t row = static_cast<int64_t>(x.data[i]);
      order.push_back(row);
      if (y.has_labels()) {
        EXPECT_EQ(y.labels[i], row % 3);
      } else {
        EXPECT_EQ(y.values.data[i * 3 + row % 3], 1.0f);
      }
    }
  }
  return order;
}

std::vector<int64_t> Iota(int64_t n) {
  std::vector<int64_t> values(n);
  std::iota(values.begin(), values.end(), 0);
  return values;
}

TEST(BatchIteratorTest, InOrderWithPartialLastBatch) {
  Dataset dataset = Numbered(10, /*with_targets=*/false);
  BatchIterator batches(dataset, 4, /*shuffle=*/false, /*seed=*/0);
  EXPECT_EQ(batches.batches_per_epoch(), 3);
  EXPECT_EQ(batches.batch_size(), 4);
  std::vector<int64_t> sizes;
  EXPECT_THAT(Epoch(batches, &sizes), ElementsAreArray(Iota(10)));
  EXPECT_THAT(sizes, ElementsAre(4, 4, 2));
  MatrixView x;
  EXPECT_FALSE(batches.Next(&x, nullptr));  // Stays at the end until Reset.
  batches.Reset();
  ASSERT_TRUE(batches.Next(&x, nullptr));
  // Unshuffled batches are views of the dataset, not copies.
  EXPECT_EQ(x.data, dataset.x.data.data());
}

TEST(BatchIteratorTest, ZeroMeansTheWholeDataset) {
  Dataset dataset = Numbered(7, /*with_targets=*/true);
  BatchIterator batches(dataset, 0, /*shuffle=*/false, /*seed=*/0);
  EXPECT_EQ(batches.batches_per_epoch(), 1);
  EXPECT_EQ(batches.batch_size(), 7);
  std::vector<int64_t> sizes;
  EXPECT_THAT(Epoch(batches, &sizes), ElementsAreArray(Iota(7)));
  EXPECT_THAT(sizes, ElementsAre(7));

  for (int64_t size : {int64_t{100}, std::numeric_limits<int64_t>::max()}) {
    BatchIterator larger(dataset, size, /*shuffle=*/false, /*seed=*/0);
    EXPECT_EQ(larger.batches_per_epoch(), 1) << size;
    sizes.clear();
    Epoch(larger, &sizes);
    EXPECT_THAT(sizes, ElementsAre(7)) << size;
  }
  EXPECT_EQ(BatchIterator::BatchesPerEpoch(7, 3), 3);
  EXPECT_EQ(BatchIterator::BatchesPerEpoch(7, std::numeric_limits<int64_t>::max() - 1), 1);
  EXPECT_EQ(BatchIterator::BatchesPerEpoch(0, 3), 0);
}

// A shuffled iterator holds no order until its first Next: a Train sets up its run on a gRPC
// thread and computes on the executor, and an 8 M-row order is 64 MB of work and memory.
TEST(BatchIteratorTest, TheOrderIsMadeByTheFirstNextNotBySetUp) {
  Dataset dataset = Numbered(1000, /*with_targets=*/false);
  BatchIterator batches(dataset, 10, /*shuffle=*/true, /*seed=*/5);
  batches.Seek(3, 2);
  EXPECT_EQ(batches.HeldBytes(), 0);
  MatrixView x;
  ASSERT_TRUE(batches.Next(&x, nullptr));
  EXPECT_GE(batches.HeldBytes(), 1000 * static_cast<int64_t>(sizeof(int64_t)));
  // The batch is the one epoch 3's order puts third.
  const std::vector<int64_t> order = EpochOrder(5, 3, 1000);
  for (int64_t i = 0; i < x.rows; ++i) EXPECT_EQ(x.data[i], static_cast<float>(order[20 + i]));
  // Unshuffled, nothing is held: batches are views.
  BatchIterator in_order(dataset, 10, /*shuffle=*/false, /*seed=*/5);
  ASSERT_TRUE(in_order.Next(&x, nullptr));
  EXPECT_EQ(in_order.HeldBytes(), 0);
}

TEST(BatchIteratorTest, ShuffleIsASeededPermutationNewEachEpoch) {
  for (bool with_targets : {false, true}) {
    Dataset dataset = Numbered(50, with_targets);
    BatchIterator batches(dataset, 8, /*shuffle=*/true, /*seed=*/42);
    std::vector<int64_t> sizes;
    const std::vector<int64_t> first = Epoch(batches, &sizes);
    EXPECT_THAT(sizes, ElementsAre(8, 8, 8, 8, 8, 8, 2));
    std::vector<int64_t> sorted = first;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_THAT(sorted, ElementsAreArray(Iota(50)));
    EXPECT_NE(first, Iota(50));

    batches.Reset();
    const std::vector<int64_t> second = Epoch(batches);
    EXPECT_NE(second, first);
    sorted = second;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_THAT(sorted, ElementsAreArray(Iota(50)));

    BatchIterator same_seed(dataset, 8, /*shuffle=*/true, /*seed=*/42);
    EXPECT_EQ(Epoch(same_seed), first);
    same_seed.Reset();
    EXPECT_EQ(Epoch(same_seed), second);

    BatchIterator other_seed(dataset, 8, /*shuffle=*/true, /*seed=*/43);
    EXPECT_NE(Epoch(other_seed), first);
  }
}

TEST(BatchIteratorTest, ShuffledBatchesCanSkipTargetsAndEmptyDatasetsEndAtOnce) {
  Dataset dataset = Numbered(5, /*with_targets=*/false);
  BatchIterator batches(dataset, 2, /*shuffle=*/true, /*seed=*/1);
  MatrixView x;
  int served = 0;
  while (batches.Next(&x, nullptr)) served += static_cast<int>(x.rows);
  EXPECT_EQ(served, 5);

  Dataset empty;
  BatchIterator none(empty, 4, /*shuffle=*/true, /*seed=*/1);
  EXPECT_EQ(none.batches_per_epoch(), 0);
  TargetsView y;
  EXPECT_FALSE(none.Next(&x, &y));

  Dataset inputs_only;
  inputs_only.x = Matrix{2, 1, {5, 6}};
  BatchIterator unlabeled(inputs_only, 1, /*shuffle=*/false, /*seed=*/1);
  ASSERT_TRUE(unlabeled.Next(&x, &y));
  EXPECT_FALSE(y.has_labels());
  EXPECT_EQ(y.rows(), 0);
}

}  // namespace
}  // namespace mlpd
