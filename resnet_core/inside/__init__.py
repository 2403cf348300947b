"""Looking inside a trained net: feature maps, attributions, embeddings, block anatomy, gradient flow, lesions, loss slices."""
