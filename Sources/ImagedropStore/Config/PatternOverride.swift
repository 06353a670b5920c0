/// `run --once --include/--exclude`: name patterns for one run, in place of every source's `watch.include` or
/// `watch.exclude` (each list only when given; the config file is not touched). The daemon applies it after
/// every load, so a reload during the run keeps it.
package struct PatternOverride: Sendable, Equatable {
    package var include: [String]?
    package var exclude: [String]?

    package init(include: [String]?, exclude: [String]?) {
        self.include = include
        self.exclude = exclude
    }

    package func apply(to config: Config) -> Config {
        var config = config
        func override(_ watch: inout Config.Watch) {
            if let include { watch.include = include }
            if let exclude { watch.exclude = exclude }
        }
        override(&config.watch)
        for index in config.sources.indices { override(&config.sources[index].watch) }
        return config
    }
}
