/* cartpole.c — to be written */
#include "cartpole.h"
