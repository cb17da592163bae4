/* The server models, one line each, in the order `ipcbox --list-models`
 * prints them. A model is the file src/lib/model_NAME.c, which defines
 * `const struct ibx_model ibx__model_NAME` (see server_int.h); listing it
 * here is all it takes to make it known to the library, the applets'
 * --model flag, `ipcbox --list-models` and the tests that iterate it. */
IBX__MODEL(iterative)
IBX__MODEL(fork)
IBX__MODEL(thread)
IBX__MODEL(prefork)
IBX__MODEL(threadpool)
IBX__MODEL(select)
IBX__MODEL(poll)
IBX__MODEL(epoll)
IBX__MODEL(io_uring)
IBX__MODEL(reuseport)
IBX__MODEL(coroutine)
