"""The drawing canvas and the pictures drawn from a drawing: thumbnails and overlays."""
