//! An HTTP handler for hosts of the `wasi:http/proxy` world (`wasmtime serve`, Spin, wasmCloud).
//!
//! Routes:
//! - `GET /` answers with a greeting;
//! - `GET /greet` greets the name in the `x-name` header;
//! - `POST /echo` answers with the request body, and says how long it was;
//! - anything else is a 404 naming the method and path.

use std::io::{Read as _, Write as _};

use wasi::http::types::{
    Fields, IncomingBody, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

wasi::http::proxy::export!(HttpHello);

struct HttpHello;

impl wasi::exports::http::incoming_handler::Guest for HttpHello {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let method = method_name(&request.method());
        let path = request.path_with_query().unwrap_or_else(|| "/".to_string());
        let (status, extra_headers, body) = match (method.as_str(), path.as_str()) {
            ("GET", "/") => (200, vec![], b"Hello from a WebAssembly component!\n".to_vec()),
            ("GET", "/greet") => {
                let name = header(&request, "x-name").unwrap_or_else(|| "stranger".to_string());
                (200, vec![], format!("Hello, {name}!\n").into_bytes())
            }
            ("POST", "/echo") => {
                let received = read_body(&request);
                let length = received.len().to_string();
                (200, vec![("x-body-length", length)], received)
            }
            #[cfg(feature = "phone-home")]
            ("POST", "/phone-home") => (200, vec![], phone_home()),
            _ => (404, vec![], format!("no route for {method} {path}\n").into_bytes()),
        };
        respond(response_out, status, &extra_headers, &body);
    }
}

/// What a compromised dependency would add: a socket of its own (imports `wasi:sockets/*`).
#[cfg(feature = "phone-home")]
fn phone_home() -> Vec<u8> {
    use wasi::sockets::network::IpAddressFamily;
    let opened = wasi::sockets::tcp_create_socket::create_tcp_socket(IpAddressFamily::Ipv4).is_ok();
    format!("socket opened: {opened}\n").into_bytes()
}

fn method_name(method: &Method) -> String {
    match method {
        Method::Get => "GET",
        Method::Head => "HEAD",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Delete => "DELETE",
        Method::Connect => "CONNECT",
        Method::Options => "OPTIONS",
        Method::Trace => "TRACE",
        Method::Patch => "PATCH",
        Method::Other(other) => other,
    }
    .to_string()
}

/// The first value of a request header, if it is there and is UTF-8.
fn header(request: &IncomingRequest, name: &str) -> Option<String> {
    let values = request.headers().get(name);
    values.into_iter().next().and_then(|value| String::from_utf8(value).ok())
}

fn read_body(request: &IncomingRequest) -> Vec<u8> {
    let mut received = Vec::new();
    if let Ok(body) = request.consume() {
        if let Ok(mut stream) = body.stream() {
            stream.read_to_end(&mut received).expect("reading the request body");
        }
        IncomingBody::finish(body);
    }
    received
}

fn respond(response_out: ResponseOutparam, status: u16, extra: &[(&str, String)], body: &[u8]) {
    let mut headers = vec![
        ("content-type".to_string(), b"text/plain; charset=utf-8".to_vec()),
        ("x-served-by".to_string(), b"http-hello".to_vec()),
    ];
    headers.extend(extra.iter().map(|(name, value)| (name.to_string(), value.as_bytes().to_vec())));
    let response = OutgoingResponse::new(Fields::from_list(&headers).expect("valid response headers"));
    response.set_status_code(status).expect("a valid status code");
    let outgoing = response.body().expect("the response body");
    ResponseOutparam::set(response_out, Ok(response));
    let mut stream = outgoing.write().expect("the response body stream");
    stream.write_all(body).expect("writing the response body");
    stream.flush().expect("flushing the response body");
    drop(stream);
    OutgoingBody::finish(outgoing, None).expect("finishing the response");
}
