// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: 2026 The Runner authors
//
// The Engine.IO protocol test suite's cases (engine-io-cases.mjs) against
// the built runner binary.

import { describeEngineIo } from "./engine-io-cases.mjs";

describeEngineIo();
