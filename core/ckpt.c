/* ckpt.c — to be written */
#include "ckpt.h"
