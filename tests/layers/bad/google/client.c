/* The client: level 3. */
int ccai_google_call(void);

int ccai_google_call(void)
{
	return 0;
}
