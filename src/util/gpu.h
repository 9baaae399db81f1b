/*
 * gpu: the NVIDIA GPUs of this machine, as `nvidia-smi -L` lists them
 * ("GPU 0: NVIDIA A100 ..."). A machine without nvidia-smi has none.
 */
#ifndef FRUGAL_UTIL_GPU_H
#define FRUGAL_UTIL_GPU_H

#include <stddef.h>

/* The device ids ("0", "1", ...) into *ret_ids (NULL-terminated; free
 * each and the array) and their number; 0 and NULL when there are none. */
size_t gpu_detect(char ***ret_ids);

#endif
