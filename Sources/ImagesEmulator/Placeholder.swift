enum ImagesEmulatorPlaceholder {}
