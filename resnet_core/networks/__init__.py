"""The networks: residual blocks, the ResNet body and its registry, and torchinfo layer tables."""
