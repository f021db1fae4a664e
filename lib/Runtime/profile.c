/*===- profile.c - per-op times for tfc compile --profile ----------------===*
 *
 * A model compiled with --profile calls tfc_rt_profile_enter and
 * tfc_rt_profile_exit around every graph op, on the thread that called
 * tfc_model_run (parallel loops start and end inside the pair). The time
 * between the two is added to the op's entry; the op's site string, a
 * constant in the model, is its key.
 *
 *===----------------------------------------------------------------------===*/

#include "runtime_internal.h"

#include <stdlib.h>
#include <time.h>

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static tfc_profile *current_profile(void) {
  tfc_run *run = tfc_current_run();
  return run ? &run->model->profile : NULL;
}

void tfc_rt_profile_enter(const char *site) {
  (void)site;
  tfc_profile *profile = current_profile();
  if (profile)
    profile->started = now_seconds();
}

void tfc_rt_profile_exit(const char *site) {
  double end = now_seconds();
  tfc_profile *profile = current_profile();
  if (!profile)
    return;
  size_t index = profile->next;
  if (index >= profile->count || profile->entries[index].site != site) {
    for (index = 0; index < profile->count; ++index)
      if (profile->entries[index].site == site)
        break;
  }
  if (index == profile->count) {
    if (profile->count == profile->capacity) {
      size_t capacity = profile->capacity ? 2 * profile->capacity : 256;
      tfc_profile_entry *entries =
          realloc(profile->entries, capacity * sizeof(*entries));
      if (!entries)
        return; /* a profile with a site missing, not a failed run */
      profile->entries = entries;
      profile->capacity = capacity;
    }
    profile->entries[index].site = site;
    profile->entries[index].calls = 0;
    profile->entries[index].seconds = 0;
    ++profile->count;
  }
  profile->entries[index].calls += 1;
  profile->entries[index].seconds += end - profile->started;
  profile->next = index + 1;
}

const tfc_profile_entry *tfc_model_profile(const tfc_model *model,
                                           size_t *count) {
  if (count)
    *count = model ? model->profile.count : 0;
  return model ? model->profile.entries : NULL;
}

void tfc_model_clear_profile(tfc_model *model) {
  if (!model)
    return;
  model->profile.count = 0;
  model->profile.next = 0;
}
