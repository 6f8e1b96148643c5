// Filled in by its own issue; see ../../README.md for the package map.
export {};
