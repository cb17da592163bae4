/* The registry of server models: one line per model in model_list.h, one
 * file per model (model_NAME.c). */
#include "server_int.h"

#include <errno.h>
#include <string.h>

#define IBX__MODEL(name) extern const struct ibx_model ibx__model_##name;
#include "model_list.h"
#undef IBX__MODEL

static const struct ibx_model *const models[] = {
#define IBX__MODEL(name) &ibx__model_##name,
#include "model_list.h"
#undef IBX__MODEL
};

/* The model of a configuration that names none. */
#define DEFAULT_MODEL (&ibx__model_epoll)

const struct ibx_model *ibx__model_of(const ibx_model *m)
{
    return m ? m : DEFAULT_MODEL;
}

int ibx_model_parse(const char *s, const ibx_model **out)
{
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++)
        if (strcmp(s, models[i]->name) == 0) {
            *out = models[i];
            return 0;
        }
    return -EINVAL;
}

const char *ibx_model_at(size_t i)
{
    return i < sizeof models / sizeof models[0] ? models[i]->name : NULL;
}

const char *ibx_model_name(const ibx_model *m) { return ibx__model_of(m)->name; }
const char *ibx_model_help(const ibx_model *m) { return ibx__model_of(m)->help; }
unsigned ibx_model_traits(const ibx_model *m) { return ibx__model_of(m)->traits; }

unsigned ibx_model_max_conns(const ibx_model *m) { return ibx__model_of(m)->max_conns_limit; }

bool ibx_model_runs(const ibx_model *m, const struct ibx_proto *proto)
{
    if (ibx__model_of(m)->traits & IBX_MODEL_COROUTINES)
        return proto->serve != NULL;
    return proto->open != NULL;
}
