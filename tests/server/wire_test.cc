// Views of request tensors: a shape that does not match the data is refused with a message
// that states the shape's real need, even when rows x cols does not fit in int64.
#include "server/wire.h"

#include <cstdint>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mlpd {
namespace {

using ::testing::HasSubstr;

v1::Tensor Tensor(int64_t rows, int64_t cols, int values) {
  v1::Tensor tensor;
  tensor.add_shape(rows);
  tensor.add_shape(cols);
  for (int i = 0; i < values; ++i) tensor.add_data(0.25f * static_cast<float>(i));
  return tensor;
}

TEST(ViewTensorTest, ViewsAMatchingShape) {
  const v1::Tensor tensor = Tensor(2, 3, 6);
  absl::StatusOr<MatrixView> view = ViewTensor("x", tensor);
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ(view->rows, 2);
  EXPECT_EQ(view->cols, 3);
  EXPECT_EQ(view->data, tensor.data().data());
}

TEST(ViewTensorTest, NamesWhatAShortShapeNeeds) {
  const absl::Status status = ViewTensor("batch.x", Tensor(2, 3, 5)).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("batch.x.data has 5 values; shape [2, 3] needs 6"));
}

// Found by fuzz_batch: rows x cols overflowed int64 in the refusal's message (undefined
// behaviour, and the message said "needs 0" for [2^62, 4]).
TEST(ViewTensorTest, ShapesBeyondInt64AreImpossibleNotOverflowed) {
  const absl::Status status = ViewTensor("x", Tensor(int64_t{1} << 62, 4, 4)).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("x.data has 4 values; shape [4611686018427387904, 4] is impossible"));
}

// A product that wraps around int64 is impossible whatever it wraps to.
TEST(ViewTensorTest, AWrappedProductNeverMatchesTheData) {
  const absl::Status status =
      ViewTensor("x", Tensor((int64_t{1} << 32) + 1, int64_t{1} << 32, 4)).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("is impossible"));
}

TEST(ViewBatchTest, TargetsMustHaveXsRows) {
  v1::Batch batch;
  *batch.mutable_x() = Tensor(2, 2, 4);
  *batch.mutable_targets() = Tensor(3, 1, 3);
  const absl::Status status = ViewBatch("batch", batch).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("batch.targets has 3 rows; batch.x has 2"));
}

}  // namespace
}  // namespace mlpd
