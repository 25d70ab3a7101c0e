/* The client's header: level 3. */
int ccai_google_call(void);
