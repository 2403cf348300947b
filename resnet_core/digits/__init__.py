"""Reading a digit: canvases and pictures prepared the way MNIST was made, and the model's answer."""
