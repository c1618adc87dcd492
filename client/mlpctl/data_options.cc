#include "client/mlpctl/data_options.h"

#include "client/mlpctl/flag_checks.h"

namespace mlpd::mlpctl {

void AddDataOptions(CLI::App* command, DataFlags* data, bool preprocessing) {
  command->add_option("--idx-images", data->idx_images, "IDX image file (e.g. MNIST)");
  command->add_option("--idx-labels", data->idx_labels, "IDX label file matching --idx-images");
  command->add_option("--csv", data->csv, "CSV file of numbers, one row per line; - for stdin");
  command->add_flag("--label-column", data->label_column,
                    "The last CSV column is an int class label");
  command
      ->add_option("--target-columns", data->target_columns,
                   "The last K CSV columns are float targets")
      ->transform(IntegerFlag(0));
  command->add_option("--limit", data->limit, "Keep only the first N rows (default: all)")
      ->transform(IntegerFlag(1));
  command->add_option("--normalize", data->normalize,
                      "MEAN,STD to standardise x, or 'fit' to compute them on this data");
  if (preprocessing) {
    command
        ->add_option("--one-hot", data->one_hot,
                     "Turn class labels into one-hot float targets with this value at the "
                     "label (e.g. 0.9)")
        ->check(Float32Flag());
    command->add_option("--one-hot-base", data->one_hot_base,
                        "Value of the other one-hot entries: 0 (default) or -1");
    command
        ->add_option("--classes-count", data->classes,
                     "Width of the one-hot targets (default: largest label + 1)")
        ->transform(IntegerFlag(1));
  }
}

absl::StatusOr<LoadedData> LoadForCommand(const DataFlags& data) {
  absl::StatusOr<LoadedData> loaded = LoadData(data);
  if (!loaded.ok()) return loaded.status();
  if (loaded->dataset.rows() == 0) return absl::InvalidArgumentError("the data has no rows");
  return loaded;
}

}  // namespace mlpd::mlpctl
