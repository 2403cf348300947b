"""The datasets as uint8 tensors on the training device, batches and batched augmentation."""
