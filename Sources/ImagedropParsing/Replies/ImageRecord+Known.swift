/// An image known without a request: what another host of the fleet recorded for a custom id it stored.
extension ImageRecord {
    package init(id: String, variants: [String], metaSHA256: String) {
        self.id = id
        self.variants = variants
        self.metaSHA256 = metaSHA256
    }
}
