// fuzz_seeds writes the seed corpus of every fuzz target, one folder per target under the given
// directory, from the real encoders (MakeCheckpoint, DataDir, protobuf), so the seeds
// follow the formats as they change and no binary file is kept in the repository. The CSV
// seeds are text and live in tests/fuzz/seeds/csv.
//
//   fuzz_seeds OUT_DIR   ->  OUT_DIR/{checkpoint,model_spec,data_file,idx,batch}/seed-N
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/checkpoint.h"
#include "core/model.h"
#include "core/spec_proto.h"
#include "mlpd/v1/mlpd.pb.h"
#include "server/data_dir.h"
#include "tests/core/engine_test_util.h"

namespace mlpd {
namespace {

namespace fs = std::filesystem;

class SeedWriter {
 public:
  explicit SeedWriter(fs::path root) : root_(std::move(root)) {}

  void Write(const std::string& target, const std::string& bytes) {
    const fs::path folder = root_ / target;
    fs::create_directories(folder);
    std::ofstream out(folder / absl::StrCat("seed-", counts_[target]++), std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) Fail(absl::StrCat("cannot write a seed of ", target));
  }

  static void Fail(const std::string& why) {
    std::cerr << "fuzz_seeds: " << why << "\n";
    std::exit(1);
  }

 private:
  fs::path root_;
  std::map<std::string, int> counts_;
};

std::string ReadWhole(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// TrainedCheckpoint is a small model of `spec` after two steps, so counters and optimizer
// state are not all zero.
v1::Checkpoint TrainedCheckpoint(const ModelSpec& spec) {
  absl::StatusOr<std::unique_ptr<Model>> model = Model::Create(spec);
  if (!model.ok()) SeedWriter::Fail(std::string(model.status().message()));
  const int64_t rows = 2;
  const std::vector<float> x = testing::RandomValues(rows * spec.input_size, 1);
  const testing::BatchTargets y = testing::TargetsFor(spec, rows, 2);
  for (int step = 0; step < 2; ++step) {
    absl::StatusOr<float> loss =
        (*model)->TrainStep(MatrixView{x.data(), rows, spec.input_size}, y.view());
    if (!loss.ok()) SeedWriter::Fail(std::string(loss.status().message()));
  }
  absl::StatusOr<v1::Checkpoint> checkpoint = MakeCheckpoint(**model);
  if (!checkpoint.ok()) SeedWriter::Fail(std::string(checkpoint.status().message()));
  return *checkpoint;
}

std::vector<ModelSpec> SeedSpecs() {
  using testing::TestSpec;
  return {
      TestSpec(3, {{4, Activation::kTanh}, {2, Activation::kIdentity}}, LossKind::kCrossEntropy,
               Reduction::kMean, OptimizerKind::kAdam),
      TestSpec(2, {{3, Activation::kRelu}, {2, Activation::kSigmoid}}, LossKind::kMse,
               Reduction::kSum, OptimizerKind::kMomentum),
      TestSpec(2, {{1, Activation::kIdentity}}, LossKind::kLogistic, Reduction::kMean,
               OptimizerKind::kSgd),
  };
}

// IdxFile is an unsigned-byte IDX file of the given dimensions, values counting up.
std::string IdxFile(const std::vector<uint32_t>& dims) {
  std::string file = {0, 0, 8, static_cast<char>(dims.size())};
  size_t values = 1;
  for (uint32_t dim : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) file.push_back(static_cast<char>(dim >> shift));
    values *= dim;
  }
  for (size_t i = 0; i < values; ++i) file.push_back(static_cast<char>(i % 10));
  return file;
}

void WriteSeeds(const fs::path& root) {
  SeedWriter seeds(root);
  const fs::path store_dir = root / "store";
  fs::remove_all(store_dir);
  DataDir store(store_dir.string());
  if (!store.Open().ok()) SeedWriter::Fail("cannot open a data dir under " + root.string());

  int index = 0;
  for (const ModelSpec& spec : SeedSpecs()) {
    v1::Checkpoint checkpoint = TrainedCheckpoint(spec);
    seeds.Write("checkpoint", checkpoint.SerializeAsString());
    seeds.Write("model_spec", checkpoint.spec().SerializeAsString());
    const std::string name = absl::StrCat("s", index++);
    if (!store.SaveSession(name, checkpoint).ok()) SeedWriter::Fail("SaveSession failed");
    const std::string file = ReadWhole(store.SessionPath(name));
    seeds.Write("data_file", std::string(1, '\0') + file);  // Session file as written.
    seeds.Write("data_file", std::string(1, '\2') + file);  // Same, header repaired.
  }

  Dataset labelled;
  labelled.x = Matrix{3, 2, {1, 2, 3, 4, 5, 6}};
  labelled.labels = {0, 1, 2};
  labelled.has_labels = true;
  Dataset regression;
  regression.x = Matrix{2, 3, {1, 2, 3, 4, 5, 6}};
  regression.targets = Matrix{2, 1, {0.5f, -0.5f}};
  for (const Dataset* dataset : {&labelled, &regression}) {
    const std::string name = absl::StrCat("d", index++);
    if (!store.SaveDataset(name, *dataset).ok()) SeedWriter::Fail("SaveDataset failed");
    const std::string file = ReadWhole(store.DatasetPath(name));
    seeds.Write("data_file", std::string(1, '\1') + file);
    seeds.Write("data_file", std::string(1, '\3') + file);

    v1::Batch batch;
    batch.mutable_x()->add_shape(dataset->x.rows);
    batch.mutable_x()->add_shape(dataset->x.cols);
    for (float value : dataset->x.data) batch.mutable_x()->add_data(value);
    if (dataset->has_labels) {
      for (int32_t label : dataset->labels) batch.add_labels(label);
    } else {
      batch.mutable_targets()->add_shape(dataset->targets.rows);
      batch.mutable_targets()->add_shape(dataset->targets.cols);
      for (float value : dataset->targets.data) batch.mutable_targets()->add_data(value);
    }
    seeds.Write("batch", batch.SerializeAsString());
  }
  fs::remove_all(store_dir);

  // IDX: the first byte is the label file's length / 4, then labels, then images.
  const std::string labels = IdxFile({3});
  const std::string images = IdxFile({3, 2, 2});
  seeds.Write("idx", std::string(1, static_cast<char>(labels.size() / 4)) + labels + images);
  seeds.Write("idx", std::string(1, '\0') + images);
}

}  // namespace
}  // namespace mlpd

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_seeds OUT_DIR\n";
    return 2;
  }
  mlpd::WriteSeeds(argv[1]);
  return 0;
}
