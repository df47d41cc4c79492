#!/usr/bin/env node
// The `redox` bin. Committed (with its executable bit) rather than pointing npm at compiled
// output, which npm may link before `prepare` has compiled it, leaving it not executable.
require('../build/cli/main.js');
