#!/usr/bin/env bash
# Regenerates the golden files (scenario traces and captures, the scenario JSON Schema) from the current code.
# Review the diff before committing: a golden change is a behaviour change.
set -euo pipefail
cd "$(dirname "$0")/.."
UPDATE_GOLDEN=1 npx vitest run test/scenarios/golden.test.ts test/scenario/schema.test.ts
git status --short scenarios/golden schema
