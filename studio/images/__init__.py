"""Input images in the domain: `uploads` checks an uploaded image by its content, as Vidu
would (format, size, pixel count, a file that decodes whole), and `decoding` decodes a
picture at a reduced size in bounded memory (thumbnails, and the picture the worker
re-encodes). `formats` reads by hand what both need of a file's structure, and
`metadata` copies a file without its EXIF, XMP and text, its picture as it was.

What goes into the provider's request body is the worker's: `studio.worker.request_images`.
"""
