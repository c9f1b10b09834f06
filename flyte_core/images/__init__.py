"""Container images: the ``flyte.Image`` spec, its layers and the image-builder registry."""
