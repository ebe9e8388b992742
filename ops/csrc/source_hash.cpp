// Fingerprint of the sources this extension was built from (mmpsla/ops/source_hash.py);
// setup.py writes it into a generated header outside ops/csrc. Only this file includes
// that header, so a new fingerprint recompiles only this file.
#include "mmpsla_source_hash.h"

namespace mmpsla {

const char* source_hash() { return MMPSLA_SOURCE_HASH; }

}  // namespace mmpsla
