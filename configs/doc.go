// Package configs owns sluice's configuration file: the YAML model (plain
// DTOs such as Config, Source and Sink), `${ENV}` / `${file:/path}`
// interpolation, defaults, strict validation whose errors carry
// file:line:column and the dotted key, and redaction of secrets for printing.
//
// Load and Parse decode, apply defaults and validate in one step; every
// problem found is reported at once as Errors. Redacted and String give a
// copy or a rendering with passwords, tokens and DSN passwords replaced by
// "*****"; the fmt, JSON and YAML renderings of Config, Kafka, SASL, Source
// and Sink are always redacted.
//
// Runtime packages (sources, sinks, offsets, transforms, internal) do not
// import configs; cmd/sluice maps these DTOs onto their option structs.
// Conversely, configs must not import any sluice runtime package: it depends
// on the standard library and gopkg.in/yaml.v3 only.
package configs
