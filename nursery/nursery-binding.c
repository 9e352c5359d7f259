/* nursery-binding.c: what Nursery can tell of a language binding
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* GJS refuses to run JavaScript on any thread but its own: a JS function
 * handed to nursery_group_spawn_in_thread() would log a critical on the
 * worker and return without running, and the child would "succeed" (R2).
 * C cannot see that happen, but it can see it coming: the function a
 * binding hands over is a closure made at run time, in no loaded object
 * (dladdr() finds nothing), and the caller is JavaScript when GJS has a
 * context on this thread. A Python closure looks the same, so a process
 * that also runs Python is given the benefit of the doubt. Vala, C and
 * C++ callbacks are code of a loaded object and never match. */

#define _GNU_SOURCE 1

#include "config.h"

#ifdef HAVE_DLADDR
#include <dlfcn.h>
#endif

#include "nursery-binding-private.h"

gboolean
_nursery_callback_is_gjs (gpointer func)
{
#ifdef HAVE_DLADDR
  gpointer (*gjs_current) (void) = (gpointer (*) (void)) dlsym (RTLD_DEFAULT, "gjs_context_get_current");
  Dl_info info;

  if (gjs_current == NULL || gjs_current () == NULL)
    return FALSE;
  if (dlsym (RTLD_DEFAULT, "Py_IsInitialized") != NULL)
    return FALSE;
  return dladdr (func, &info) == 0;
#else
  return FALSE;
#endif
}
