enum ImagedropCorePlaceholder {}
