#include <pthread.h>
void f(void) { void *p = malloc(4); }
