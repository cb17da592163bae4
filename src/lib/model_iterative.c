/* iterative: one loop; the next client is accepted only after the current
 * one has closed (the main worker's cap is one connection). The shared code
 * does it all: this file only names the model and its traits. */
#include "server_int.h"

const struct ibx_model ibx__model_iterative = {
    .name = "iterative",
    .help = "one connection at a time, on one loop",
    .traits = IBX_MODEL_ONE_LOOP | IBX_MODEL_SERIAL,
    .nofile_share = 2,
};
